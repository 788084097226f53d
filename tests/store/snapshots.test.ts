/**
 * Room snapshots against the real driver and store: a busy room is snapshotted, a process with an
 * empty cache loads the room from its snapshot plus the log after it, and a snapshot of an older
 * shape is passed over (the room is folded from its log) rather than read as the current shape.
 */
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomService } from '../../server/application/room-service.js';
import { SNAPSHOT_FORMAT } from '../../server/application/room-log.js';
import { createLogger } from '../../server/logger.js';
import { CommitWriter } from '../../server/store/commit-writer.js';
import { driverCollection } from '../../server/store/driver-collection.js';
import { createModels, type Models } from '../../server/store/models.js';
import { DEFAULT_DOMAIN_CONFIG, messageList, type UserIdentity } from '../../shared/domain/index.js';
import { openTestStore, uniqueDbName, type TestStore } from './helpers.js';

let store: TestStore;
let connection: mongoose.Connection;
let models: Models;

const alice: UserIdentity = { id: 'alice', name: 'Alice Client' };
const bob: UserIdentity = { id: 'bob', name: 'Bob Freelancer' };

/** A RoomService with nothing cached, as a freshly started process has. */
function freshService(): RoomService {
  const writer = new CommitWriter(driverCollection(models.Commit));
  return new RoomService(models, writer, DEFAULT_DOMAIN_CONFIG, createLogger('silent'));
}

beforeAll(async () => {
  store = await openTestStore();
  connection = await mongoose.createConnection(store.url(uniqueDbName('snapshots'))).asPromise();
  models = await createModels(connection);
});

afterAll(async () => {
  await connection?.dropDatabase();
  await connection?.close();
  await store?.close();
});

describe('the room log', () => {
  it('reads commits written with their events as an array, as earlier versions stored them', async () => {
    const first = freshService();
    const room = await first.create(alice, { title: 'Old commits', freelancerId: 'bob' });
    for (let i = 0; i < 3; i++)
      await first.execute(room.id, alice, undefined, { type: 'message.post', text: `m${i}` });
    await first.drain();
    // Rewrite every commit of the room in the earlier shape.
    for (const doc of await models.Commit.collection.find({ roomId: room.id }).toArray()) {
      const events: unknown = JSON.parse(String(doc.eventsJson));
      await models.Commit.collection.updateOne(
        { _id: doc._id },
        { $set: { events }, $unset: { eventsJson: '' } },
      );
    }
    const loaded = await freshService().state(room.id);
    expect(loaded).toEqual(await first.state(room.id));
    expect(messageList(loaded!.messages).map((m) => m.seq)).toEqual([2, 3, 4]);
  });
});

describe('room snapshots', () => {
  it('are written as a busy room grows, and a fresh process loads the room through them', async () => {
    const first = freshService();
    const room = await first.create(alice, { title: 'Snapshots', freelancerId: 'bob' });
    for (let i = 0; i < 200; i++)
      await first.execute(room.id, i % 2 ? alice : bob, undefined, { type: 'message.post', text: `m${i}` });
    await first.drain();
    // The log must go on past the snapshot: one more message if the room's interval ended at its
    // last (the next snapshot is at least 50 events away).
    let messages = 200;
    if ((await models.Snapshot.findById(room.id).lean())?.seq === 201) {
      await first.execute(room.id, alice, undefined, { type: 'message.post', text: `m${messages++}` });
      await first.drain();
    }
    const written = await models.Snapshot.findById(room.id).lean();
    expect(written?.format).toBe(SNAPSHOT_FORMAT);
    expect(written?.seq).toBeGreaterThanOrEqual(50);
    expect(written?.seq).toBeLessThan(messages + 1);

    const expected = await first.state(room.id);
    const loaded = await freshService().state(room.id);
    expect(loaded).toEqual(expected);
    expect(messageList(loaded!.messages)).toHaveLength(messages);
  });

  it('passes over a snapshot of an older shape and folds the room from its log', async () => {
    const first = freshService();
    const room = await first.create(alice, { title: 'Old snapshot', freelancerId: 'bob' });
    for (let i = 0; i < 5; i++)
      await first.execute(room.id, alice, undefined, { type: 'message.post', text: `m${i}` });
    await first.drain();
    // What an earlier version left: no format, and a state this version cannot read.
    await models.Snapshot.collection.updateOne(
      { _id: room.id as never },
      {
        $set: { seq: 6, hash: 'stale', state: JSON.stringify({ messages: { '2': { seq: 2 } } }) },
        $unset: { format: '' },
      },
      { upsert: true },
    );
    const loaded = await freshService().state(room.id);
    expect(loaded).toEqual(await first.state(room.id));
    expect(messageList(loaded!.messages).map((m) => m.seq)).toEqual([2, 3, 4, 5, 6]);
  });
});
