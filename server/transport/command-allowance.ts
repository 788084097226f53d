import { ApiError } from '../application/errors.js';
import type { RateLimiter } from './rate-limit.js';

/**
 * RATE_LIMIT_COMMANDS: commands per 10 s, counted per socket connection and, over HTTP (which
 * runs the same command path), per user.
 */
export class CommandAllowance {
  constructor(
    private readonly counter: RateLimiter,
    private readonly limit: number,
  ) {}

  /** Counts a command by `key` and refuses it past the limit; answers at once when counted here. */
  take(key: string): void | Promise<void> {
    const allowed = this.counter.hit(key);
    if (typeof allowed === 'boolean') return this.refuseUnless(allowed);
    return allowed.then((ok) => this.refuseUnless(ok));
  }

  private refuseUnless(allowed: boolean): void {
    if (!allowed) throw new ApiError('RATE_LIMITED', `At most ${this.limit} commands per 10 seconds`);
  }
}
