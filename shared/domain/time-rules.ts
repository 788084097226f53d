import type { EventDraft } from '../schemas/events.js';
import type { RoomState } from '../schemas/room.js';
import { isCreated } from './state.js';

/** The periods the time rules use (seconds). The server reads them from its environment. */
export interface DomainConfig {
  /** A submitted milestone is released automatically this long after its latest submission. */
  reviewWindowSeconds: number;
  /** Double-blind feedback is revealed this long after the contract ended. */
  feedbackWindowSeconds: number;
  /** Reminders to the client side of an idle active contract, after this much inactivity each. */
  inactivityReminderSeconds: number[];
  /** An idle active contract is ended after this much inactivity. */
  inactivityCloseSeconds: number;
  /** A status report is due this long after the last one (or the start); 0 turns reminders off. */
  statusReportPeriodSeconds: number;
}

const DAY = 86_400;

export const DEFAULT_DOMAIN_CONFIG: Readonly<DomainConfig> = Object.freeze({
  reviewWindowSeconds: 14 * DAY,
  feedbackWindowSeconds: 14 * DAY,
  inactivityReminderSeconds: [60 * DAY, 75 * DAY],
  inactivityCloseSeconds: 90 * DAY,
  statusReportPeriodSeconds: 7 * DAY,
});

const ms = (seconds: number) => seconds * 1000;
const time = (iso: string) => Date.parse(iso);

/** The inactivity reminder thresholds that come before the close, ascending, without repeats. */
function reminderThresholds(config: DomainConfig): number[] {
  return [...new Set(config.inactivityReminderSeconds)]
    .filter((s) => s < config.inactivityCloseSeconds)
    .sort((a, b) => a - b);
}

/** When the feedback window of an ended contract closes (null if not ended). */
export function feedbackClosesAt(state: RoomState, config: DomainConfig): Date | null {
  return state.endedAt == null ? null : new Date(time(state.endedAt) + ms(config.feedbackWindowSeconds));
}

/** When the next status report is due (null unless active or when reports are not reminded). */
export function statusReportDueAt(state: RoomState, config: DomainConfig): Date | null {
  if (state.phase !== 'active' || config.statusReportPeriodSeconds <= 0) return null;
  const base = state.lastStatusReportAt ?? state.startedAt;
  if (base == null) return null;
  return new Date(time(base) + ms(config.statusReportPeriodSeconds) * (state.remindersSent.statusReport + 1));
}

/**
 * The system events due at `now` (their actor is the system), in the order they apply:
 * auto-release of submitted milestones whose review window closed (also after the contract
 * ended: a silent client cannot hold the pay of delivered work); in an active contract, one
 * status-report reminder per due period, one inactivity reminder per threshold passed, and the
 * close for inactivity; in an ended one, the feedback reveal when its window closes.
 */
export function tick(state: RoomState, now: Date, config: DomainConfig): EventDraft[] {
  if (!isCreated(state)) return [];
  const t = now.getTime();
  const events: EventDraft[] = [];
  if (state.phase === 'active' || state.phase === 'ended') {
    for (const m of state.milestones) {
      if (
        m.status === 'submitted' &&
        m.submittedAt != null &&
        time(m.submittedAt) + ms(config.reviewWindowSeconds) <= t
      ) {
        events.push({
          type: 'milestone.released',
          data: { milestoneId: m.id, amount: m.amount, auto: true },
          audience: { kind: 'all' },
        });
      }
    }
  }
  if (state.phase === 'active') {
    const base = state.lastStatusReportAt ?? state.startedAt;
    const period = ms(config.statusReportPeriodSeconds);
    if (base != null && period > 0) {
      const due = Math.floor((t - time(base)) / period);
      if (due > state.remindersSent.statusReport) {
        events.push({
          type: 'reminder.statusReport',
          data: { dueAt: new Date(time(base) + due * period).toISOString(), period: due },
          audience: { kind: 'side', side: 'freelancer' },
        });
      }
    }
    const last = time(state.lastActivityAt);
    const elapsed = t - last;
    const closesAt = new Date(last + ms(config.inactivityCloseSeconds)).toISOString();
    const thresholds = reminderThresholds(config);
    for (let i = state.remindersSent.inactivity; i < thresholds.length; i++) {
      const threshold = thresholds[i]!;
      if (elapsed < ms(threshold)) break;
      events.push({
        type: 'reminder.inactivity',
        data: {
          reminder: i + 1,
          thresholdSeconds: threshold,
          elapsedSeconds: Math.floor(elapsed / 1000),
          lastActivityAt: state.lastActivityAt,
          closesAt,
        },
        audience: { kind: 'side', side: 'client' },
      });
    }
    if (elapsed >= ms(config.inactivityCloseSeconds)) {
      events.push({
        type: 'contract.ended',
        data: { by: 'system', reason: 'inactivity' },
        audience: { kind: 'all' },
      });
    }
  }
  if (state.phase === 'ended' && state.revealed == null) {
    const closes = feedbackClosesAt(state, config);
    if (closes != null && closes.getTime() <= t) {
      events.push({
        type: 'feedback.revealed',
        data: {
          client: state.feedback.client ? { ...state.feedback.client.public } : null,
          freelancer: state.feedback.freelancer ? { ...state.feedback.freelancer.public } : null,
          auto: true,
        },
        audience: { kind: 'all' },
      });
    }
  }
  return events;
}

/**
 * When tick next has something to do (null: nothing pending). tick returns nothing before this
 * instant and something at it, as long as no other event arrives in between.
 */
export function nextDeadline(state: RoomState, config: DomainConfig): Date | null {
  if (!isCreated(state)) return null;
  const candidates: number[] = [];
  if (state.phase === 'active' || state.phase === 'ended') {
    for (const m of state.milestones) {
      if (m.status === 'submitted' && m.submittedAt != null)
        candidates.push(time(m.submittedAt) + ms(config.reviewWindowSeconds));
    }
  }
  if (state.phase === 'active') {
    const due = statusReportDueAt(state, config);
    if (due) candidates.push(due.getTime());
    const thresholds = reminderThresholds(config);
    const next = thresholds[state.remindersSent.inactivity] ?? config.inactivityCloseSeconds;
    candidates.push(time(state.lastActivityAt) + ms(next));
  }
  if (state.phase === 'ended' && state.revealed == null) {
    const closes = feedbackClosesAt(state, config);
    if (closes) candidates.push(closes.getTime());
  }
  return candidates.length === 0 ? null : new Date(Math.min(...candidates));
}
