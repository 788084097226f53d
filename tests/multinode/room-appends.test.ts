/**
 * Two processes sharing a store and a real redis-server take turns in one room. With appends
 * shared, each folds what the other appended into its copy, so no commit is refused; without,
 * every turn is decided on a stale copy and refused once. Appends that do not follow a copy (a
 * process missed some) make it read the room instead.
 */
import mongoose from 'mongoose';
import type { Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomService } from '../../server/application/room-service.js';
import { createLogger } from '../../server/logger.js';
import { CommitConflict, CommitWriter } from '../../server/store/commit-writer.js';
import { driverCollection } from '../../server/store/driver-collection.js';
import { createModels, type Models } from '../../server/store/models.js';
import { connectRedis, type RedisConnection } from '../../server/store/redis.js';
import { DEFAULT_DOMAIN_CONFIG, messageList, type UserIdentity } from '../../shared/domain/index.js';
import { openTestStore, uniqueDbName, type TestStore } from '../store/helpers.js';
import { startRedis, type RedisProcess } from '../support/server.js';
import { until } from '../support/socket-client.js';
import { redisAvailable } from './redis-notice.js';

const alice: UserIdentity = { id: 'alice', name: 'Alice Client' };
const bob: UserIdentity = { id: 'bob', name: 'Bob Freelancer' };
const logger = createLogger('silent');

/** Counts the commits the store refused because another process had taken their seq. */
class CountingWriter extends CommitWriter {
  refused = 0;

  override writeGroup(docs: Document[]): Promise<void>[] {
    return super.writeGroup(docs).map((answer) =>
      answer.catch((err: unknown) => {
        if (err instanceof CommitConflict && err.on === 'seq') this.refused++;
        throw err;
      }),
    );
  }
}

interface Process {
  rooms: RoomService;
  writer: CountingWriter;
  /** The highest seq this process heard another announce, by room. */
  heard: Map<string, number>;
  redis?: RedisConnection;
}

describe.skipIf(!redisAvailable())('appends shared over Redis', () => {
  let store: TestStore;
  let connection: mongoose.Connection;
  let models: Models;
  let redis: RedisProcess;
  const processes: Process[] = [];
  /** Reads of the log (finds on commits) so far, seen by the driver's command monitoring. */
  let logReads = 0;

  async function startProcess(share: boolean): Promise<Process> {
    const writer = new CountingWriter(driverCollection(models.Commit));
    const p: Process = {
      rooms: new RoomService(models, writer, DEFAULT_DOMAIN_CONFIG, logger),
      writer,
      heard: new Map(),
    };
    if (share) {
      p.redis = await connectRedis(redis.url, logger);
      p.rooms.shareAppends(p.redis.appends);
      p.redis.appends.subscribe((roomId, events) =>
        p.heard.set(roomId, Math.max(events.at(-1)!.seq, p.heard.get(roomId) ?? 0)),
      );
    }
    processes.push(p);
    return p;
  }

  /**
   * Twenty messages, the two processes taking turns; each turn waits until `heard` says so.
   * Returns how often the log was read meanwhile.
   */
  async function takeTurns(
    a: Process,
    b: Process,
    heard: (to: Process, roomId: string, seq: number) => boolean,
    first?: (roomId: string) => Promise<unknown>,
  ) {
    const room = await a.rooms.create(alice, { title: 'Taking turns', freelancerId: 'bob' });
    await b.rooms.state(room.id); // both have the room cached
    const readsBefore = logReads;
    await first?.(room.id);
    const before = 1 + (first ? 1 : 0);
    for (let i = 0; i < 20; i++) {
      const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
      const result = await from.rooms.execute(room.id, i % 2 === 0 ? alice : bob, undefined, {
        type: 'message.post',
        text: `m${i}`,
      });
      await until(() => heard(to, room.id, result.seq), 5_000, 'the other process hearing of it');
    }
    const reads = logReads - readsBefore;
    const states = await Promise.all([a.rooms.state(room.id), b.rooms.state(room.id)]);
    expect(states[0]).toEqual(states[1]);
    expect(
      messageList(states[0]!.messages)
        .map((m) => m.seq)
        .slice(-20),
    ).toEqual(Array.from({ length: 20 }, (_, i) => before + i + 1));
    return reads;
  }

  const heardIt = (to: Process, roomId: string, seq: number) => (to.heard.get(roomId) ?? 0) >= seq;

  beforeAll(async () => {
    store = await openTestStore();
    connection = await mongoose
      .createConnection(store.url(uniqueDbName('room_appends')), { monitorCommands: true })
      .asPromise();
    connection.getClient().on('commandStarted', (e) => {
      if (e.commandName === 'find' && (e.command as { find?: unknown }).find === 'commits') logReads++;
    });
    models = await createModels(connection);
    redis = await startRedis();
  }, 30_000);

  afterAll(async () => {
    for (const p of processes) {
      await p.rooms.drain();
      await p.redis?.close();
    }
    await connection?.dropDatabase();
    await connection?.close();
    await store?.close();
    await redis?.stop();
  });

  it('with appends shared, neither process has a commit refused or reads the log', async () => {
    const [a, b] = [await startProcess(true), await startProcess(true)];
    expect(await takeTurns(a, b, heardIt)).toBe(0);
    expect(a.writer.refused + b.writer.refused).toBe(0);
  });

  it('a process that missed appends reads the room before deciding, and every copy agrees', async () => {
    const [a, b, outsider] = [await startProcess(true), await startProcess(true), await startProcess(false)];
    let roomId = '';
    const reads = await takeTurns(a, b, heardIt, (id) => {
      roomId = id;
      return outsider.rooms.execute(id, bob, undefined, { type: 'message.post', text: 'unannounced' });
    });
    // The first turn of each is decided on a copy without the outsider's message: A's is refused
    // and decided again on the room read afresh; B hears appends that do not follow its copy and
    // reads the room first. One read each, and one for the outsider, which had no copy.
    expect(a.writer.refused + b.writer.refused).toBe(1);
    expect(reads).toBe(3);
    expect(await outsider.rooms.state(roomId)).toEqual(await a.rooms.state(roomId));
  });

  it('without, a process deciding after the other has its commit refused and decides again', async () => {
    const [a, b] = [await startProcess(false), await startProcess(false)];
    expect(await takeTurns(a, b, () => true)).toBeGreaterThanOrEqual(19);
    expect(a.writer.refused + b.writer.refused).toBeGreaterThanOrEqual(19);
  });
});
