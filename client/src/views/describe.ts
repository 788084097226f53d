import type { RoomState, Terms } from '../../../shared/domain/index.js';
import type { RoomEvent } from '../../../shared/schemas/index.js';
import { actorLabel, day, money, nameOf, when } from '../format.js';

/** One line about terms: "Fixed price: 2 milestones, $1,500.00 in total". */
export function termsSummary(terms: Terms): string {
  switch (terms.kind) {
    case 'fixed': {
      const total = terms.milestones.reduce((sum, m) => sum + m.amount, 0);
      return `Fixed price: ${terms.milestones.length} milestone${terms.milestones.length === 1 ? '' : 's'}, ${money(total, terms.currency)} in total`;
    }
    case 'hourly':
      return `Hourly: ${money(terms.hourlyRate, terms.currency)}/h, up to ${terms.weeklyLimitHours} h a week`;
    case 'stipend':
      return `Stipend: ${money(terms.weeklyAmount, terms.currency)} a week`;
  }
}

function milestoneTitle(state: RoomState, id: string): string {
  const m = state.milestones.find((x) => x.id === id);
  if (m) return m.title;
  for (let i = state.proposals.length - 1; i >= 0; i--) {
    const t = state.proposals[i]!.terms;
    if (t.kind === 'fixed') {
      const found = t.milestones.find((x) => x.id === id);
      if (found) return found.title;
    }
  }
  return id;
}

/** How an event reads in the timeline: who did what (on whose behalf) — the time is shown beside it. */
export function describeEvent(state: RoomState, e: RoomEvent, me: string): { text: string; detail?: string } {
  const who = actorLabel(e.actor);
  switch (e.type) {
    case 'room.created':
      return { text: `${who} opened the room “${e.data.title}” with ${nameOf(e.data.freelancerId)}` };
    case 'room.agencyAssigned':
      return { text: `Agency ${e.data.agencyId} now follows this room` };
    case 'members.added':
      return { text: `${who} added ${e.data.userIds.map(nameOf).join(', ')} to the room` };
    case 'file.shared':
      return { text: `${who} shared a file` };
    case 'message.posted':
    case 'message.edited':
    case 'message.deleted':
      return { text: `${who} changed a message` };
    case 'terms.proposed': {
      const offer = e.data.supersedes == null && state.startedAt == null;
      const what = offer
        ? `made an offer (version ${e.data.version})`
        : e.data.supersedes != null
          ? `countered version ${e.data.supersedes} with version ${e.data.version}`
          : `proposed amended terms (version ${e.data.version})`;
      return {
        text: `${who} ${what}`,
        detail: termsSummary(e.data.terms) + (e.data.terms.note ? ` — “${e.data.terms.note}”` : ''),
      };
    }
    case 'terms.accepted':
      return { text: `${who} accepted version ${e.data.version}` };
    case 'contract.started':
      return { text: `The contract started on the terms of version ${e.data.version}` };
    case 'terms.declined':
      return {
        text: `${who} declined version ${e.data.version}`,
        ...(e.data.reason ? { detail: `Reason: ${e.data.reason}` } : {}),
      };
    case 'terms.withdrawn':
      return { text: `${who} withdrew version ${e.data.version}` };
    case 'milestone.funded':
      return {
        text: `${who} funded “${milestoneTitle(state, e.data.milestoneId)}” (${money(e.data.amount, e.data.currency)} in escrow)`,
      };
    case 'milestone.submitted':
      return {
        text: `${who} submitted “${milestoneTitle(state, e.data.milestoneId)}” for review`,
        detail: e.data.note,
      };
    case 'milestone.changesRequested':
      return {
        text: `${who} requested changes to “${milestoneTitle(state, e.data.milestoneId)}”`,
        detail: e.data.note,
      };
    case 'milestone.released': {
      const amount = money(e.data.amount, state.currency ?? 'USD');
      return e.data.auto
        ? {
            text: `“${milestoneTitle(state, e.data.milestoneId)}” was released automatically (${amount}): the review window closed`,
          }
        : { text: `${who} released “${milestoneTitle(state, e.data.milestoneId)}” (${amount})` };
    }
    case 'statusReport.submitted':
      return {
        text: `${who} filed a status report for ${day(e.data.periodStart)} – ${day(e.data.periodEnd)} (${e.data.hours} h)`,
        detail: e.data.summary,
      };
    case 'contract.ended':
      return e.data.by === 'system'
        ? { text: 'The contract was closed for inactivity' }
        : {
            text: `${who} ended the contract`,
            ...(e.data.reason ? { detail: `Reason: ${e.data.reason}` } : {}),
          };
    case 'feedback.submitted':
      return {
        text: e.actor.id === me ? 'You submitted your feedback' : `${who} submitted feedback`,
        detail: 'Hidden from the other side until both have submitted or the window closes.',
      };
    case 'feedback.revealed':
      return {
        text: e.data.auto
          ? 'The feedback window closed: feedback is revealed'
          : 'Both sides have submitted: feedback is revealed',
      };
    case 'reminder.inactivity':
      return {
        text: `Reminder: no activity since ${when(e.data.lastActivityAt)}; the contract closes on ${when(e.data.closesAt)} if nothing happens`,
      };
    case 'reminder.statusReport':
      return { text: `Reminder: a status report is due (since ${when(e.data.dueAt)})` };
  }
}
