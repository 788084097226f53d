import { randomUUID } from 'node:crypto';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient, type RedisClientType } from 'redis';
import type { RoomAppends } from '../application/room-appends.js';
import type { StoredEvent } from '../../shared/domain/index.js';
import type { Logger } from '../logger.js';

const APPENDS_CHANNEL = 'workroom:appends';

export interface RedisConnection {
  client: RedisClientType;
  /** The Socket.IO adapter that fans events out to every node. */
  adapter: ReturnType<typeof createAdapter>;
  /** What each node appends, shared with the others (see RoomAppends). */
  appends: RoomAppends;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Redis for scale-out: a command client (rate limits) and the adapter's publish/subscribe pair.
 * The clients reconnect by themselves; while Redis is away, nodes miss each other's broadcasts and
 * clients fill the gap by seq from MongoDB.
 */
export async function connectRedis(url: string, logger: Logger): Promise<RedisConnection> {
  const options = {
    url,
    socket: { reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000) },
  };
  // Rate-limit checks must not wait for a Redis that is away: they fail fast and the limiter
  // lets the command through. The adapter's clients keep their offline queue instead.
  const client = createClient({ ...options, disableOfflineQueue: true }) as RedisClientType;
  const pub = createClient(options) as RedisClientType;
  const sub = pub.duplicate();
  for (const [name, c] of [
    ['client', client],
    ['pub', pub],
    ['sub', sub],
  ] as const) {
    c.on('error', (err: unknown) => logger.warn({ err, redis: name }, 'redis connection error'));
  }
  await Promise.all([client.connect(), pub.connect(), sub.connect()]);
  logger.info({ url: url.replace(/\/\/[^@]*@/, '//***@') }, 'redis connected');
  return {
    client,
    adapter: createAdapter(pub, sub, { requestsTimeout: 2_000 }),
    appends: new RedisRoomAppends(pub, sub, logger),
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

/**
 * Appends over Redis publish/subscribe: what is appended in one turn of the event loop goes out as
 * one message, `{ from, rooms: [[roomId, events], …] }`; a node ignores its own. A lost message
 * (Redis away) only costs what it costs without them: a refused commit, decided again.
 */
class RedisRoomAppends implements RoomAppends {
  private readonly node = randomUUID();
  private pending = new Map<string, StoredEvent[]>();

  constructor(
    private readonly pub: RedisClientType,
    private readonly sub: RedisClientType,
    private readonly logger: Logger,
  ) {}

  publish(roomId: string, events: StoredEvent[]): void {
    if (this.pending.size === 0) setImmediate(() => this.flush());
    const room = this.pending.get(roomId);
    if (room) room.push(...events);
    else this.pending.set(roomId, [...events]);
  }

  subscribe(listener: (roomId: string, events: StoredEvent[]) => void): void {
    void this.sub
      .subscribe(APPENDS_CHANNEL, (message) => {
        for (const [roomId, events] of this.foreign(message)) listener(roomId, events);
      })
      .catch((err: unknown) => this.logger.warn({ err }, 'appends of other nodes not subscribed'));
  }

  private flush(): void {
    const rooms = [...this.pending];
    this.pending = new Map();
    this.pub.publish(APPENDS_CHANNEL, JSON.stringify({ from: this.node, rooms })).catch(() => undefined);
  }

  /** What another node appended; nothing for this node's own messages or a malformed one. */
  private foreign(message: string): Array<[string, StoredEvent[]]> {
    try {
      const parsed = JSON.parse(message) as { from?: unknown; rooms?: unknown };
      if (parsed.from === this.node || !Array.isArray(parsed.rooms)) return [];
      return parsed.rooms.filter(
        (r): r is [string, StoredEvent[]] =>
          Array.isArray(r) && typeof r[0] === 'string' && Array.isArray(r[1]) && r[1].every(isEventLike),
      );
    } catch {
      return [];
    }
  }
}

/** Enough of an event to chain it: the fold checks the rest (DomainInvariantError). */
function isEventLike(e: unknown): boolean {
  const event = e as Partial<StoredEvent> | null;
  return (
    typeof event === 'object' &&
    event !== null &&
    Number.isInteger(event.seq) &&
    typeof event.type === 'string' &&
    typeof event.hash === 'string'
  );
}
