import { ApiError } from '../application/errors.js';
import type { RateLimiter } from './rate-limit.js';

/**
 * So many requests of one kind per 10 s per key, refused RATE_LIMITED past that. Commands
 * (RATE_LIMIT_COMMANDS) are counted per socket connection and, over HTTP, per user; HTTP reads
 * per user (RATE_LIMIT_EVENTS, the budget a socket's other events draw on).
 */
export class Allowance {
  constructor(
    private readonly counter: RateLimiter,
    private readonly limit: number,
    private readonly what: string,
  ) {}

  /** Counts a request by `key` and refuses it past the limit; answers at once when counted here. */
  take(key: string): void | Promise<void> {
    const allowed = this.counter.hit(key);
    if (typeof allowed === 'boolean') return this.refuseUnless(allowed);
    return allowed.then((ok) => this.refuseUnless(ok));
  }

  private refuseUnless(allowed: boolean): void {
    if (!allowed) throw new ApiError('RATE_LIMITED', `At most ${this.limit} ${this.what} per 10 seconds`);
  }
}
