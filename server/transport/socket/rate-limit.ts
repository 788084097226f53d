import type { RedisClientType } from 'redis';

/** A fixed-window counter: `limit` hits per window per key; 0 means unlimited. */
export interface RateLimiter {
  /** Whether this hit is within the limit (answered at once when counted in this process). */
  hit(key: string): boolean | Promise<boolean>;
}

const WINDOW_MS = 10_000;

export function memoryRateLimiter(limit: number): { hit(key: string): boolean } {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    hit(key) {
      if (limit === 0) return true;
      const now = Date.now();
      let w = windows.get(key);
      if (!w || now - w.start >= WINDOW_MS) {
        if (windows.size > 50_000) windows.clear();
        w = { start: now, count: 0 };
        windows.set(key, w);
      }
      w.count += 1;
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
    async hit(key) {
      if (limit === 0) return true;
      const bucket = `workroom:rl:${key}:${Math.floor(Date.now() / WINDOW_MS)}`;
      try {
        const [count] = (await redis
          .multi()
          .incr(bucket)
          .pExpire(bucket, WINDOW_MS * 2)
          .exec()) as unknown as [number];
        return Number(count) <= limit;
      } catch {
        return local.hit(key);
      }
    },
  };
}
