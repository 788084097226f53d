/**
 * Room summaries (the room documents lists and the scheduler read) against the real driver and
 * store: a command after a quiet spell updates its room's document right away, and a stream of
 * commands updates it a few times rather than once per command, ending on the latest state.
 */
import mongoose from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RoomService } from '../../server/application/room-service.js';
import { createLogger } from '../../server/logger.js';
import { CommitWriter } from '../../server/store/commit-writer.js';
import { driverCollection } from '../../server/store/driver-collection.js';
import { createModels, type Models } from '../../server/store/models.js';
import { DEFAULT_DOMAIN_CONFIG, type UserIdentity } from '../../shared/domain/index.js';
import { until } from '../support/socket-client.js';
import { openTestStore, uniqueDbName, type TestStore } from './helpers.js';

let store: TestStore;
let connection: mongoose.Connection;
let models: Models;
let service: RoomService;
/** Room documents updated since the test began, as the store was asked to (one per update). */
let roomUpdates = 0;

const alice: UserIdentity = { id: 'alice', name: 'Alice Client' };

beforeAll(async () => {
  store = await openTestStore();
  connection = await mongoose
    .createConnection(store.url(uniqueDbName('summaries')), { monitorCommands: true })
    .asPromise();
  connection.getClient().on('commandStarted', (e) => {
    if (e.commandName === 'update' && e.command.update === 'rooms')
      roomUpdates += (e.command.updates as unknown[]).length;
  });
  models = await createModels(connection);
  service = new RoomService(
    models,
    new CommitWriter(driverCollection(models.Commit)),
    DEFAULT_DOMAIN_CONFIG,
    createLogger('silent'),
  );
});

beforeEach(async () => {
  await service.summariesWritten();
  roomUpdates = 0;
});

afterAll(async () => {
  await service?.drain();
  await connection?.dropDatabase();
  await connection?.close();
  await store?.close();
});

const seqOf = async (roomId: string) => (await models.Room.findById(roomId).lean())?.seq;

describe('room summaries', () => {
  it('show a command after a quiet spell without anyone asking for them', async () => {
    const room = await service.create(alice, { title: 'Quiet', freelancerId: 'bob' });
    await service.summariesWritten();
    roomUpdates = 0;
    const { seq } = await service.execute(room.id, alice, undefined, { type: 'message.post', text: 'hello' });
    // Another process reads the document directly: no written() call ends a pause for it.
    await until(async () => (await seqOf(room.id)) === seq, 2_000, 'the room document at the new seq');
    expect(roomUpdates).toBe(1);
  });

  it('are written a few times for a stream of commands, ending on the latest state', async () => {
    const room = await service.create(alice, { title: 'Busy', freelancerId: 'bob' });
    await service.summariesWritten();
    roomUpdates = 0;
    let seq = 0;
    for (let i = 0; i < 60; i++)
      seq = (await service.execute(room.id, alice, undefined, { type: 'message.post', text: `m${i}` })).seq;
    await until(async () => (await seqOf(room.id)) === seq, 5_000, 'the room document at the last seq');
    expect(roomUpdates).toBeGreaterThan(0);
    expect(roomUpdates).toBeLessThan(20);
  });
});
