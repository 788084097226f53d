import type { EventType, RoomEvent } from '../schemas/events.js';
import type { Milestone, Proposal, RoomState } from '../schemas/room.js';
import { DomainInvariantError } from './errors.js';
import { milestonesUnder } from './terms-rules.js';
import { messageAt, withMessage } from './messages.js';
import { emptyRoomState, own } from './state.js';

/** An event as stored (StoredEvent) or as received on the wire (RoomEvent, audience optional). */
type AnyEvent = RoomEvent;
type EventOf<T extends EventType> = Extract<AnyEvent, { type: T }>;
type Handler<T extends EventType> = (state: RoomState, event: EventOf<T>) => RoomState;
type Handlers = { [T in EventType]: Handler<T> };

/**
 * The files of every message posted without any: one shared (frozen) array rather than an empty
 * one per message, which was a third of the objects a room's message index holds.
 */
const NO_FILES = Object.freeze([]) as unknown as string[];

function invariant(condition: unknown, event: AnyEvent, message: string): asserts condition {
  if (!condition) throw new DomainInvariantError(`seq ${event.seq} (${event.type}): ${message}`, event.seq);
}

function requirePhase(state: RoomState, event: AnyEvent, ...phases: RoomState['phase'][]): void {
  invariant(phases.includes(state.phase), event, `not allowed in phase ${state.phase}`);
}

function closeOpen(
  state: RoomState,
  event: AnyEvent,
  version: number,
  status: Proposal['status'],
): Proposal[] {
  invariant(state.openProposalVersion === version, event, `version ${version} is not the open proposal`);
  return state.proposals.map((p) => (p.version === version ? { ...p, status, closedAt: event.at } : p));
}

function updateMilestone(
  state: RoomState,
  event: AnyEvent,
  id: string,
  from: Milestone['status'][],
  change: (m: Milestone) => Milestone,
): RoomState {
  requirePhase(state, event, 'active', 'ended');
  const index = state.milestones.findIndex((m) => m.id === id);
  const current = state.milestones[index];
  invariant(current, event, `no milestone ${id}`);
  invariant(from.includes(current.status), event, `milestone ${id} is ${current.status}`);
  const milestones = state.milestones.slice();
  milestones[index] = change(current);
  return { ...state, milestones };
}

const handlers: Handlers = {
  'room.created': (state, e) => {
    invariant(state.seq === 0, e, 'room already created');
    invariant(state.id === '' || state.id === e.data.roomId, e, `event of room ${e.data.roomId}`);
    return {
      ...state,
      id: e.data.roomId,
      title: e.data.title,
      clientId: e.data.clientId,
      freelancerId: e.data.freelancerId,
      jobId: e.data.jobId,
      interviewerIds: [...e.data.interviewerIds],
      agencyId: e.data.agencyId,
      phase: 'interview',
      createdAt: e.at,
    };
  },
  'room.agencyAssigned': (state, e) => ({ ...state, agencyId: e.data.agencyId }),
  'members.added': (state, e) => {
    for (const id of e.data.userIds) {
      invariant(!state.interviewerIds.includes(id), e, `${id} is already a member`);
      invariant(id !== state.clientId && id !== state.freelancerId, e, `${id} is a principal`);
    }
    return { ...state, interviewerIds: [...state.interviewerIds, ...e.data.userIds] };
  },
  'file.shared': (state, e) => {
    invariant(!own(state.files, e.data.fileId), e, `file ${e.data.fileId} already shared`);
    return {
      ...state,
      files: {
        ...state.files,
        [e.data.fileId]: {
          id: e.data.fileId,
          name: e.data.name,
          size: e.data.size,
          contentType: e.data.contentType,
          sha256: e.data.sha256,
          sharedBy: e.actor.id,
          at: e.at,
        },
      },
    };
  },
  'message.posted': (state, e) => ({
    ...state,
    messages: withMessage(state.messages, {
      seq: e.seq,
      authorId: e.actor.id,
      at: e.at,
      edited: false,
      editedAt: null,
      deleted: false,
      fileIds: e.data.fileIds.length > 0 ? [...e.data.fileIds] : NO_FILES,
      replyTo: e.data.replyTo,
    }),
  }),
  'message.edited': (state, e) => {
    const m = messageAt(state.messages, e.data.seq);
    invariant(m && !m.deleted, e, `no live message ${e.data.seq}`);
    return { ...state, messages: withMessage(state.messages, { ...m, edited: true, editedAt: e.at }) };
  },
  'message.deleted': (state, e) => {
    const m = messageAt(state.messages, e.data.seq);
    invariant(m && !m.deleted, e, `no live message ${e.data.seq}`);
    return { ...state, messages: withMessage(state.messages, { ...m, deleted: true }) };
  },
  'terms.proposed': (state, e) => {
    requirePhase(state, e, 'interview', 'offer', 'active');
    invariant(e.data.version === state.proposals.length + 1, e, `version ${e.data.version} is not the next`);
    invariant(e.actor.side !== 'system', e, 'proposals have a party as author');
    let proposals = state.proposals;
    if (e.data.supersedes != null) {
      proposals = closeOpen(state, e, e.data.supersedes, 'countered');
    } else {
      invariant(state.openProposalVersion == null, e, 'another proposal is open');
    }
    const proposal: Proposal = {
      version: e.data.version,
      terms: e.data.terms,
      authorSide: e.actor.side,
      actor: e.actor,
      status: 'open',
      at: e.at,
      closedAt: null,
    };
    return {
      ...state,
      phase: state.phase === 'interview' ? 'offer' : state.phase,
      proposals: [...proposals, proposal],
      openProposalVersion: e.data.version,
    };
  },
  'terms.accepted': (state, e) => {
    requirePhase(state, e, 'offer', 'active');
    const proposals = closeOpen(state, e, e.data.version, 'accepted');
    const terms = proposals[e.data.version - 1]!.terms;
    return {
      ...state,
      proposals,
      openProposalVersion: null,
      termsInForce: { version: e.data.version, terms },
      milestones: milestonesUnder(state, terms),
      currency: terms.currency,
    };
  },
  'contract.started': (state, e) => {
    requirePhase(state, e, 'offer');
    invariant(state.termsInForce?.version === e.data.version, e, `version ${e.data.version} is not in force`);
    return {
      ...state,
      phase: 'active',
      startedAt: e.at,
      remindersSent: { inactivity: 0, statusReport: 0 },
    };
  },
  'terms.declined': (state, e) => ({
    ...state,
    proposals: closeOpen(state, e, e.data.version, 'declined'),
    openProposalVersion: null,
    phase: state.phase === 'offer' ? 'interview' : state.phase,
  }),
  'terms.withdrawn': (state, e) => ({
    ...state,
    proposals: closeOpen(state, e, e.data.version, 'withdrawn'),
    openProposalVersion: null,
    phase: state.phase === 'offer' ? 'interview' : state.phase,
  }),
  'milestone.funded': (state, e) =>
    updateMilestone(state, e, e.data.milestoneId, ['pending'], (m) => ({
      ...m,
      status: 'funded',
      fundedAmount: e.data.amount,
      fundedAt: e.at,
    })),
  'milestone.submitted': (state, e) =>
    updateMilestone(state, e, e.data.milestoneId, ['funded', 'changes_requested'], (m) => ({
      ...m,
      status: 'submitted',
      submittedAt: e.at,
      submissions: [
        ...m.submissions,
        {
          seq: e.seq,
          at: e.at,
          by: e.actor.id,
          note: e.data.note,
          files: e.data.files.map((f) => ({ ...f })),
        },
      ],
    })),
  'milestone.changesRequested': (state, e) =>
    updateMilestone(state, e, e.data.milestoneId, ['submitted'], (m) => ({
      ...m,
      status: 'changes_requested',
      changeRequests: [...m.changeRequests, { seq: e.seq, at: e.at, by: e.actor.id, note: e.data.note }],
    })),
  'milestone.released': (state, e) =>
    updateMilestone(state, e, e.data.milestoneId, ['submitted'], (m) => ({
      ...m,
      status: 'released',
      releasedAt: e.at,
      autoReleased: e.data.auto,
    })),
  'statusReport.submitted': (state, e) => {
    requirePhase(state, e, 'active');
    return {
      ...state,
      statusReports: [
        ...state.statusReports,
        {
          seq: e.seq,
          at: e.at,
          by: e.actor.id,
          periodStart: e.data.periodStart,
          periodEnd: e.data.periodEnd,
          summary: e.data.summary,
          hours: e.data.hours,
          progress: e.data.progress.map((p) => ({ ...p })),
          nextSteps: e.data.nextSteps,
          blockers: e.data.blockers,
        },
      ],
      lastStatusReportAt: e.at,
      remindersSent: { ...state.remindersSent, statusReport: 0 },
    };
  },
  'contract.ended': (state, e) => {
    requirePhase(state, e, 'active');
    return {
      ...state,
      phase: 'ended',
      endedAt: e.at,
      endedBy: e.data.by,
      endReason: e.data.reason,
      proposals:
        state.openProposalVersion == null
          ? state.proposals
          : closeOpen(state, e, state.openProposalVersion, 'expired'),
      openProposalVersion: null,
    };
  },
  'feedback.submitted': (state, e) => {
    requirePhase(state, e, 'ended');
    invariant(state.feedback[e.data.side] == null, e, `${e.data.side} feedback already submitted`);
    invariant(state.revealed == null, e, 'feedback already revealed');
    return {
      ...state,
      feedback: {
        ...state.feedback,
        [e.data.side]: {
          by: e.actor.id,
          at: e.at,
          public: { ...e.data.public },
          private: { ...e.data.private },
        },
      },
    };
  },
  'feedback.revealed': (state, e) => {
    requirePhase(state, e, 'ended');
    invariant(state.revealed == null, e, 'feedback already revealed');
    return {
      ...state,
      revealed: {
        at: e.at,
        client: e.data.client ? { ...e.data.client } : null,
        freelancer: e.data.freelancer ? { ...e.data.freelancer } : null,
      },
    };
  },
  'reminder.inactivity': (state, e) => {
    requirePhase(state, e, 'active');
    return { ...state, remindersSent: { ...state.remindersSent, inactivity: e.data.reminder } };
  },
  'reminder.statusReport': (state, e) => {
    requirePhase(state, e, 'active');
    return { ...state, remindersSent: { ...state.remindersSent, statusReport: e.data.period } };
  },
};

/**
 * Applies one stored event: pure and deterministic. Throws DomainInvariantError for an event that
 * cannot apply (out of sequence, or contradicting the state): the log is corrupt.
 */
export function evolve(state: RoomState, event: AnyEvent): RoomState {
  invariant(event.seq === state.seq + 1, event, `expected seq ${state.seq + 1}`);
  const handler = (handlers as Record<string, Handler<EventType> | undefined>)[event.type];
  invariant(Object.hasOwn(handlers, event.type) && handler, event, 'unknown event type');
  invariant(event.type === 'room.created' || state.seq > 0, event, 'room not created');
  const next = handler(state, event as EventOf<EventType>);
  const activity = event.actor.side !== 'system';
  return {
    ...next,
    seq: event.seq,
    lastActivityAt: activity ? event.at : next.lastActivityAt,
    remindersSent: activity ? { ...next.remindersSent, inactivity: 0 } : next.remindersSent,
  };
}

/** Folds events onto a state (by default the empty state of the first event's room). */
export function fold(events: readonly AnyEvent[], from?: RoomState): RoomState {
  let state = from ?? emptyRoomState('');
  for (const event of events) state = evolve(state, event);
  return state;
}
