/**
 * The commit writer against the real driver and store: commits of many rooms go out together,
 * a room's group lands in order, and a refused commit takes with it only the commits of its own
 * room that build on it; the other rooms' commits behind it in the batch are still written.
 */
import mongoose from 'mongoose';
import type { Collection, Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitKey } from '../../server/application/room-log.js';
import { CommitConflict, CommitWriter } from '../../server/store/commit-writer.js';
import { createModels } from '../../server/store/models.js';
import { openTestStore, uniqueDbName, type TestStore } from './helpers.js';

let store: TestStore;
let connection: mongoose.Connection;
let commits: Collection;

beforeAll(async () => {
  store = await openTestStore();
  connection = await mongoose.createConnection(store.url(uniqueDbName('commit_writer'))).asPromise();
  commits = (await createModels(connection)).Commit.collection as unknown as Collection;
});

afterAll(async () => {
  await connection?.dropDatabase();
  await connection?.close();
  await store?.close();
});

function commit(roomId: string, seq: number, clientId?: string): Document {
  return {
    _id: commitKey(roomId, seq),
    roomId,
    seq,
    lastSeq: seq,
    ...(clientId ? { clientId } : {}),
    events: [{ seq }],
    at: new Date(),
  };
}

async function seqsOf(roomId: string): Promise<number[]> {
  const docs = await commits.find({ roomId }).sort({ seq: 1 }).toArray();
  return docs.map((d) => d.seq as number);
}

/** How each promise settled: 'ok' or the refusal's `on`. */
function outcomes(answers: Promise<void>[]): Promise<string[]> {
  return Promise.all(
    answers.map((a) =>
      a.then(
        () => 'ok',
        (err: unknown) => (err instanceof CommitConflict ? err.on : String(err)),
      ),
    ),
  );
}

describe.each([true, false])('commit writer (batching %s)', (batching) => {
  const writer = () => new CommitWriter(() => commits, { batching });
  const room = (name: string) => `${name}-${batching ? 'batched' : 'single'}`;

  it('writes a group of one room in order and answers each commit', async () => {
    const w = writer();
    const r = room('group');
    expect(await outcomes(w.writeGroup([1, 2, 3].map((s) => commit(r, s))))).toEqual(['ok', 'ok', 'ok']);
    expect(await seqsOf(r)).toEqual([1, 2, 3]);
  });

  it('refuses a taken seq and everything of the room after it; other rooms in the same turn are written', async () => {
    const w = writer();
    const [a, b, c] = [room('a'), room('b'), room('c')];
    await w.write(commit(a, 2));
    // One turn: room b, room a's group (whose first seq is taken), room c.
    const answers = [
      ...w.writeGroup([commit(b, 1)]),
      ...w.writeGroup([1, 2, 3].map((s) => commit(a, s))),
      ...w.writeGroup([commit(c, 1), commit(c, 2)]),
    ];
    // a1 lands, a2 collides with the seq already there, a3 builds on a2 and must not land.
    expect(await outcomes(answers)).toEqual(['ok', 'ok', 'seq', 'earlier', 'ok', 'ok']);
    expect(await seqsOf(a)).toEqual([1, 2]);
    expect(await seqsOf(b)).toEqual([1]);
    expect(await seqsOf(c)).toEqual([1, 2]);
  });

  it('tells a resent clientId apart from a taken seq', async () => {
    const w = writer();
    const r = room('client');
    await w.write(commit(r, 1, 'same'));
    expect(await outcomes(w.writeGroup([commit(r, 2, 'same'), commit(r, 3)]))).toEqual([
      'clientId',
      'earlier',
    ]);
    expect(await seqsOf(r)).toEqual([1]);
  });

  it('drains only when every commit queued so far is answered', async () => {
    const w = writer();
    const r = room('drain');
    const answers = w.writeGroup(Array.from({ length: 50 }, (_, i) => commit(r, i + 1)));
    let settled = 0;
    answers.forEach((a) => void a.then(() => settled++));
    await w.drain();
    await Promise.resolve();
    expect(settled).toBe(50);
    expect(await seqsOf(r)).toHaveLength(50);
  });
});
