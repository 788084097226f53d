import type { RedisClientType } from 'redis';

/** A fixed-window counter: `limit` per window per key; 0 means unlimited. */
export interface RateLimiter {
  /**
   * Counts `cost` (one by default) and answers whether the key is still within the limit
   * (at once when counted in this process).
   */
  hit(key: string, cost?: number): boolean | Promise<boolean>;
}

const WINDOW_MS = 10_000;

export function memoryRateLimiter(limit: number): { hit(key: string, cost?: number): boolean } {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    hit(key, cost = 1) {
      if (limit === 0) return true;
      const now = Date.now();
      let w = windows.get(key);
      if (!w || now - w.start >= WINDOW_MS) {
        if (windows.size > 50_000) windows.clear();
        w = { start: now, count: 0 };
        windows.set(key, w);
      }
      w.count += cost;
      return w.count <= limit;
    },
  };
}

/**
 * The same counter kept in Redis, so it holds across server processes. While Redis is away the
 * node falls back to counting on its own, so users are neither blocked nor unlimited.
 */
export function redisRateLimiter(limit: number, redis: RedisClientType): RateLimiter {
  const local = memoryRateLimiter(limit);
  return {
    async hit(key, cost = 1) {
      if (limit === 0) return true;
      const bucket = `workroom:rl:${key}:${Math.floor(Date.now() / WINDOW_MS)}`;
      try {
        const [count] = (await redis
          .multi()
          .incrBy(bucket, cost)
          .pExpire(bucket, WINDOW_MS * 2)
          .exec()) as unknown as [number];
        return Number(count) <= limit;
      } catch {
        return local.hit(key, cost);
      }
    },
  };
}
