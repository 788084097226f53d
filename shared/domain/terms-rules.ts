import type { Terms } from '../schemas/terms.js';
import type { Milestone, RoomState } from '../schemas/room.js';

/**
 * Whether replacing the terms in force by `terms` is safe for the milestones as they stand now
 * (checked when an amendment is proposed and again when it is accepted):
 * - a submitted, changes_requested or released milestone cannot be removed or changed (title,
 *   amount, due date);
 * - a funded milestone cannot be removed or change its amount;
 * - pending milestones change freely, and new ones start pending;
 * - changing kind away from fixed removes every milestone; changing the currency changes every
 *   amount.
 * Returns null when safe, else the reason.
 */
export function amendmentViolation(state: RoomState, terms: Terms): string | null {
  const next = terms.kind === 'fixed' ? terms.milestones : [];
  const currencyChanged = state.currency != null && terms.currency !== state.currency;
  for (const m of state.milestones) {
    if (m.status === 'pending') continue;
    const n = next.find((x) => x.id === m.id);
    if (!n) return `milestone ${m.id} is ${m.status} and cannot be removed`;
    if (currencyChanged) return `milestone ${m.id} is ${m.status}: the currency cannot change`;
    if (n.amount !== m.amount) return `milestone ${m.id} is ${m.status}: its amount cannot change`;
    if (m.status !== 'funded' && (n.title !== m.title || (n.dueDate ?? null) !== m.dueDate)) {
      return `milestone ${m.id} is ${m.status} and cannot be changed`;
    }
  }
  return null;
}

/** The milestones once `terms` are in force: existing ones keep their progress. */
export function milestonesUnder(state: RoomState, terms: Terms): Milestone[] {
  if (terms.kind !== 'fixed') return [];
  return terms.milestones.map((t) => {
    const existing = state.milestones.find((m) => m.id === t.id);
    const base: Milestone = existing ?? {
      id: t.id,
      title: t.title,
      amount: t.amount,
      dueDate: null,
      status: 'pending',
      fundedAmount: null,
      fundedAt: null,
      submittedAt: null,
      releasedAt: null,
      autoReleased: false,
      submissions: [],
      changeRequests: [],
    };
    return { ...base, title: t.title, amount: t.amount, dueDate: t.dueDate ?? null };
  });
}
