import type { ErrorCode } from '../schemas/errors.js';
import type { EventDraft } from '../schemas/events.js';

export interface DomainError {
  code: ErrorCode;
  message: string;
}

/** What decide returns: the events to append, or why nothing may happen. */
export type DomainResult = { ok: true; events: EventDraft[] } | { ok: false; error: DomainError };

export function accept(...events: EventDraft[]): DomainResult {
  return { ok: true, events };
}

export function reject(code: ErrorCode, message: string): DomainResult {
  return { ok: false, error: { code, message } };
}

/** An event that cannot apply to the state it is folded onto: the log is corrupt or out of order. */
export class DomainInvariantError extends Error {
  constructor(
    message: string,
    readonly seq?: number,
  ) {
    super(message);
    this.name = 'DomainInvariantError';
  }
}
