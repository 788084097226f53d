import type { Actor, PartyActor, Role } from '../schemas/common.js';
import type { Command, CommandOf, InternalCommand } from '../schemas/commands.js';
import type { EventDraft } from '../schemas/events.js';
import type { RoomState } from '../schemas/room.js';
import { accept, reject, type DomainResult } from './errors.js';
import { messageAt } from './messages.js';
import { isPartyOf, isSystem } from './parties.js';
import { findMilestone, isCreated, openProposal, otherSide, own } from './state.js';
import { amendmentViolation } from './terms-rules.js';
import { feedbackClosesAt, type DomainConfig } from './time-rules.js';
import { LIMITS } from '../schemas/common.js';

const ALL = { kind: 'all' } as const;

const CLIENT_SIDE: readonly Role[] = ['client', 'interviewer'];
const PRINCIPALS: readonly Role[] = ['client', 'freelancer'];

function forbidden(actor: PartyActor, what: string): DomainResult {
  return reject('FORBIDDEN', `a ${actor.role.replace('_', ' ')} may not ${what}`);
}

function ended(what: string): DomainResult {
  return reject('CONFLICT', `the contract has ended: cannot ${what}`);
}

/** The first unknown file id (files must have been shared in this room), or undefined. */
function unknownFile(state: RoomState, fileIds: readonly string[] | undefined): string | undefined {
  return (fileIds ?? []).find((id) => !own(state.files, id));
}

/**
 * Checks a command against the room's rules and returns the events it appends, or the error
 * (FORBIDDEN: the actor's role may never do this; CONFLICT: not in the room's current state;
 * NOT_FOUND: the milestone or message does not exist; INVALID: a reference or value the shape
 * check could not catch). Pure: `now` is the only clock. `config`, when given, closes feedback
 * exactly when its window ends (without it, the reveal by tick closes it).
 */
export function decide(
  state: RoomState,
  command: Command | InternalCommand,
  actor: Actor,
  now: Date,
  config?: DomainConfig,
): DomainResult {
  if (command.type === 'room.create') return createRoom(state, command, actor);
  if (!isCreated(state)) return reject('NOT_FOUND', 'no such room');
  if (command.type === 'room.assignAgency') {
    if (!isSystem(actor)) return reject('FORBIDDEN', 'only the system assigns the agency');
    if (state.agencyId != null) return reject('CONFLICT', 'the room already has an agency');
    return accept({ type: 'room.agencyAssigned', data: { agencyId: command.agencyId }, audience: ALL });
  }
  if (!isPartyOf(state, actor)) return reject('FORBIDDEN', 'not a party of this room');
  switch (command.type) {
    case 'file.share':
      if (state.phase === 'ended') return ended('share files');
      if (own(state.files, command.fileId))
        return reject('CONFLICT', `file ${command.fileId} is already shared`);
      return accept({
        type: 'file.shared',
        data: {
          fileId: command.fileId,
          name: command.name,
          size: command.size,
          contentType: command.contentType,
          sha256: command.sha256,
        },
        audience: ALL,
      });
    case 'message.post':
      return postMessage(state, command);
    case 'message.edit':
    case 'message.delete':
      return changeMessage(state, command, actor);
    case 'members.add':
      return addMembers(state, command, actor);
    case 'terms.propose':
      return propose(state, command, actor);
    case 'terms.accept':
    case 'terms.decline':
    case 'terms.withdraw':
      return answer(state, command, actor);
    case 'milestone.fund':
    case 'milestone.submit':
    case 'milestone.requestChanges':
    case 'milestone.release':
      return milestone(state, command, actor);
    case 'statusReport.submit':
      return statusReport(state, command, actor);
    case 'contract.end':
      if (!PRINCIPALS.includes(actor.role)) return forbidden(actor, 'end the contract');
      if (state.phase !== 'active')
        return reject('CONFLICT', `no active contract to end (phase ${state.phase})`);
      return accept({
        type: 'contract.ended',
        data: { by: actor.side, reason: command.reason ?? null },
        audience: ALL,
      });
    case 'feedback.submit':
      return feedback(state, command, actor, now, config);
  }
}

function createRoom(
  state: RoomState,
  command: Extract<InternalCommand, { type: 'room.create' }>,
  actor: Actor,
): DomainResult {
  if (isCreated(state)) return reject('CONFLICT', 'the room already exists');
  if (
    isSystem(actor) ||
    actor.role !== 'client' ||
    actor.side !== 'client' ||
    actor.id !== command.clientId
  ) {
    return reject('FORBIDDEN', 'a room is created by its client');
  }
  if (command.freelancerId === command.clientId)
    return reject('INVALID', 'the freelancer cannot be the client');
  const interviewerIds = command.interviewerIds ?? [];
  if (interviewerIds.some((id) => id === command.clientId || id === command.freelancerId)) {
    return reject('INVALID', 'interviewers cannot include the client or the freelancer');
  }
  if (new Set(interviewerIds).size !== interviewerIds.length)
    return reject('INVALID', 'duplicate interviewer');
  return accept({
    type: 'room.created',
    data: {
      roomId: state.id,
      title: command.title,
      clientId: command.clientId,
      freelancerId: command.freelancerId,
      jobId: command.jobId ?? null,
      interviewerIds: [...interviewerIds],
      agencyId: command.agencyId ?? null,
    },
    audience: ALL,
  });
}

function postMessage(state: RoomState, command: CommandOf<'message.post'>): DomainResult {
  if (state.phase === 'ended') return ended('post messages');
  const unknown = unknownFile(state, command.fileIds);
  if (unknown !== undefined) return reject('INVALID', `file ${unknown} is not shared in this room`);
  if (command.replyTo !== undefined && !messageAt(state.messages, command.replyTo)) {
    return reject('NOT_FOUND', `no message ${command.replyTo}`);
  }
  return accept({
    type: 'message.posted',
    data: { text: command.text, fileIds: [...(command.fileIds ?? [])], replyTo: command.replyTo ?? null },
    audience: ALL,
  });
}

function changeMessage(
  state: RoomState,
  command: CommandOf<'message.edit'> | CommandOf<'message.delete'>,
  actor: PartyActor,
): DomainResult {
  const verb = command.type === 'message.edit' ? 'edit' : 'delete';
  if (state.phase === 'ended') return ended(`${verb} messages`);
  const message = messageAt(state.messages, command.seq);
  if (!message) return reject('NOT_FOUND', `no message ${command.seq}`);
  if (message.authorId !== actor.id) return reject('FORBIDDEN', `only its author may ${verb} a message`);
  if (message.deleted) return reject('CONFLICT', `message ${command.seq} is deleted`);
  if (command.type === 'message.edit') {
    return accept({ type: 'message.edited', data: { seq: command.seq, text: command.text }, audience: ALL });
  }
  return accept({ type: 'message.deleted', data: { seq: command.seq }, audience: ALL });
}

function addMembers(state: RoomState, command: CommandOf<'members.add'>, actor: PartyActor): DomainResult {
  if (actor.role !== 'client') return forbidden(actor, 'add members');
  if (state.phase === 'ended') return ended('add members');
  if (new Set(command.userIds).size !== command.userIds.length) return reject('INVALID', 'duplicate user id');
  for (const id of command.userIds) {
    if (id === state.clientId || id === state.freelancerId)
      return reject('INVALID', `${id} is already a principal of this room`);
    if (state.interviewerIds.includes(id)) return reject('INVALID', `${id} is already a member`);
  }
  if (state.interviewerIds.length + command.userIds.length > LIMITS.interviewers) {
    return reject('INVALID', `a room has at most ${LIMITS.interviewers} interviewers`);
  }
  return accept({ type: 'members.added', data: { userIds: [...command.userIds] }, audience: ALL });
}

function propose(state: RoomState, command: CommandOf<'terms.propose'>, actor: PartyActor): DomainResult {
  if (state.phase === 'ended') return ended('propose terms');
  if (state.phase === 'interview' && actor.side !== 'client') {
    return reject('CONFLICT', 'only the client side makes the offer');
  }
  const open = openProposal(state);
  if (open && open.authorSide === actor.side) {
    return reject('CONFLICT', `your side's proposal ${open.version} is still open: withdraw it first`);
  }
  if (state.phase === 'active') {
    const violation = amendmentViolation(state, command.terms);
    if (violation) return reject('CONFLICT', violation);
  }
  return accept({
    type: 'terms.proposed',
    data: {
      version: state.proposals.length + 1,
      terms: command.terms,
      supersedes: open ? open.version : null,
    },
    audience: ALL,
  });
}

function answer(
  state: RoomState,
  command: CommandOf<'terms.accept'> | CommandOf<'terms.decline'> | CommandOf<'terms.withdraw'>,
  actor: PartyActor,
): DomainResult {
  const verb = command.type.slice('terms.'.length);
  if (state.phase === 'ended') return ended(`${verb} terms`);
  const open = openProposal(state);
  if (!open || open.version !== command.version) {
    return reject('CONFLICT', `version ${command.version} is not the open proposal`);
  }
  if (command.type === 'terms.withdraw') {
    if (open.authorSide !== actor.side) return reject('CONFLICT', 'only the side that proposed may withdraw');
    return accept({ type: 'terms.withdrawn', data: { version: open.version }, audience: ALL });
  }
  if (open.authorSide === actor.side)
    return reject('CONFLICT', `the other side answers your side's proposal`);
  if (command.type === 'terms.decline') {
    return accept({
      type: 'terms.declined',
      data: { version: open.version, reason: command.reason ?? null },
      audience: ALL,
    });
  }
  const events: EventDraft[] = [{ type: 'terms.accepted', data: { version: open.version }, audience: ALL }];
  if (state.phase === 'active') {
    const violation = amendmentViolation(state, open.terms);
    if (violation) return reject('CONFLICT', violation);
  } else {
    events.push({ type: 'contract.started', data: { version: open.version }, audience: ALL });
  }
  return accept(...events);
}

function milestone(
  state: RoomState,
  command:
    | CommandOf<'milestone.fund'>
    | CommandOf<'milestone.submit'>
    | CommandOf<'milestone.requestChanges'>
    | CommandOf<'milestone.release'>,
  actor: PartyActor,
): DomainResult {
  const allowed =
    command.type === 'milestone.submit' ? actor.role === 'freelancer' : CLIENT_SIDE.includes(actor.role);
  const verb = {
    'milestone.fund': 'fund',
    'milestone.submit': 'submit',
    'milestone.requestChanges': 'request changes to',
    'milestone.release': 'release',
  }[command.type];
  if (!allowed) return forbidden(actor, `${verb} milestones`);
  if (state.phase !== 'active')
    return reject('CONFLICT', `milestones move only in an active contract (phase ${state.phase})`);
  if (state.termsInForce?.terms.kind !== 'fixed') return reject('CONFLICT', 'the contract has no milestones');
  const m = findMilestone(state, command.milestoneId);
  if (!m) return reject('NOT_FOUND', `no milestone ${command.milestoneId}`);
  const wrong = () => reject('CONFLICT', `milestone ${m.id} is ${m.status}: cannot ${verb} it`);
  switch (command.type) {
    case 'milestone.fund':
      if (m.status !== 'pending') return wrong();
      return accept({
        type: 'milestone.funded',
        data: { milestoneId: m.id, amount: m.amount, currency: state.termsInForce.terms.currency },
        audience: ALL,
      });
    case 'milestone.submit': {
      const unknown = unknownFile(state, command.fileIds);
      if (unknown !== undefined) return reject('INVALID', `file ${unknown} is not shared in this room`);
      if (m.status !== 'funded' && m.status !== 'changes_requested') return wrong();
      const files = (command.fileIds ?? []).map((id) => {
        const f = own(state.files, id)!;
        return { id: f.id, name: f.name, sha256: f.sha256 };
      });
      return accept({
        type: 'milestone.submitted',
        data: { milestoneId: m.id, note: command.note, files },
        audience: ALL,
      });
    }
    case 'milestone.requestChanges':
      if (m.status !== 'submitted') return wrong();
      return accept({
        type: 'milestone.changesRequested',
        data: { milestoneId: m.id, note: command.note },
        audience: ALL,
      });
    case 'milestone.release':
      if (m.status !== 'submitted') return wrong();
      return accept({
        type: 'milestone.released',
        data: { milestoneId: m.id, amount: m.amount, auto: false },
        audience: ALL,
      });
  }
}

function statusReport(
  state: RoomState,
  command: CommandOf<'statusReport.submit'>,
  actor: PartyActor,
): DomainResult {
  if (actor.role !== 'freelancer') return forbidden(actor, 'file status reports');
  if (state.phase !== 'active')
    return reject('CONFLICT', `status reports are filed in an active contract (phase ${state.phase})`);
  if (!(Date.parse(command.periodStart) <= Date.parse(command.periodEnd))) {
    return reject('INVALID', 'periodStart must not be after periodEnd');
  }
  const fixed = state.termsInForce?.terms.kind === 'fixed';
  if (!fixed && command.progress.length > 0)
    return reject('INVALID', 'progress is reported on milestones of fixed terms only');
  const missing = command.progress.find((p) => !findMilestone(state, p.milestoneId));
  if (missing) return reject('NOT_FOUND', `no milestone ${missing.milestoneId}`);
  return accept({
    type: 'statusReport.submitted',
    data: {
      periodStart: command.periodStart,
      periodEnd: command.periodEnd,
      summary: command.summary,
      hours: command.hours,
      progress: command.progress.map((p) => ({ milestoneId: p.milestoneId, percent: p.percent })),
      nextSteps: command.nextSteps ?? null,
      blockers: command.blockers ?? null,
    },
    audience: ALL,
  });
}

function feedback(
  state: RoomState,
  command: CommandOf<'feedback.submit'>,
  actor: PartyActor,
  now: Date,
  config: DomainConfig | undefined,
): DomainResult {
  if (!PRINCIPALS.includes(actor.role)) return forbidden(actor, 'submit feedback');
  if (state.phase !== 'ended') return reject('CONFLICT', 'feedback opens when the contract ends');
  if (state.revealed != null) return reject('CONFLICT', 'the feedback window has closed');
  const closes = config ? feedbackClosesAt(state, config) : null;
  if (closes && now.getTime() >= closes.getTime())
    return reject('CONFLICT', 'the feedback window has closed');
  const side = actor.side;
  if (state.feedback[side] != null) return reject('CONFLICT', 'your feedback is already submitted');
  const mine = { rating: command.public.rating, comment: command.public.comment };
  const privatePart =
    command.private.note === undefined
      ? { score: command.private.score }
      : { score: command.private.score, note: command.private.note };
  const events: EventDraft[] = [
    {
      type: 'feedback.submitted',
      data: { side, public: mine, private: privatePart },
      audience: { kind: 'user', userId: actor.id },
    },
  ];
  const theirs = state.feedback[otherSide(side)];
  if (theirs) {
    const other = { rating: theirs.public.rating, comment: theirs.public.comment };
    events.push({
      type: 'feedback.revealed',
      data: {
        client: side === 'client' ? mine : other,
        freelancer: side === 'freelancer' ? mine : other,
        auto: false,
      },
      audience: ALL,
    });
  }
  return accept(...events);
}
