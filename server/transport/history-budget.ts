import { ApiError } from '../application/errors.js';
import type { RateLimiter } from './rate-limit.js';

/**
 * The events of history a user may be sent per 10 s by catch-ups (`room:join`, `room:sync`),
 * history pages and exports, over all their connections (and nodes, when the counter is kept in
 * Redis). Reading a long room back costs the server far more than asking for it: without a budget
 * one user could keep a core busy by asking again and again. A read starts while the user has
 * budget left and is then charged what it sent, so one large read may overdraw it; the next waits
 * for the next window.
 */
export class HistoryBudget {
  constructor(
    private readonly counter: RateLimiter,
    private readonly limit: number,
  ) {}

  async read<T>(userId: string, read: () => Promise<T>, eventsIn: (result: T) => number): Promise<T> {
    const key = `history:${userId}`;
    if (!(await this.counter.hit(key, 0))) {
      throw new ApiError('RATE_LIMITED', `At most ${this.limit} events of history per 10 seconds`);
    }
    const result = await read();
    // Charged without holding up the reply (a counter in Redis never rejects; see rate-limit.ts).
    void this.counter.hit(key, eventsIn(result));
    return result;
  }
}
