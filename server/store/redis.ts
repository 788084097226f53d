import { createAdapter } from '@socket.io/redis-adapter';
import { createClient, type RedisClientType } from 'redis';
import type { Logger } from '../logger.js';

export interface RedisConnection {
  client: RedisClientType;
  /** The Socket.IO adapter that fans events out to every node. */
  adapter: ReturnType<typeof createAdapter>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Redis for scale-out: a command client (rate limits) and the adapter's publish/subscribe pair.
 * The clients reconnect by themselves; while Redis is away, nodes miss each other's broadcasts and
 * clients fill the gap by seq from MongoDB.
 */
export async function connectRedis(url: string, logger: Logger): Promise<RedisConnection> {
  const options = { url, socket: { reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000) } };
  // Rate-limit checks must not wait for a Redis that is away: they fail fast and the limiter
  // lets the command through. The adapter's clients keep their offline queue instead.
  const client = createClient({ ...options, disableOfflineQueue: true }) as RedisClientType;
  const pub = createClient(options) as RedisClientType;
  const sub = pub.duplicate();
  for (const [name, c] of [['client', client], ['pub', pub], ['sub', sub]] as const) {
    c.on('error', (err: unknown) => logger.warn({ err, redis: name }, 'redis connection error'));
  }
  await Promise.all([client.connect(), pub.connect(), sub.connect()]);
  logger.info({ url: url.replace(/\/\/[^@]*@/, '//***@') }, 'redis connected');
  return {
    client,
    adapter: createAdapter(pub, sub, { requestsTimeout: 2_000 }),
    async ping() {
      try {
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      await Promise.allSettled([client.quit(), pub.quit(), sub.quit()]);
    },
  };
}
