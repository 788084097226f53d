import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedMongoThread } from '../../server/embedded-mongo/thread.js';

// The server runs its embedded store on a thread of its own (server/store/connection.ts).
describe('the embedded store on its own thread', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-thread-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the driver, keeps what it acknowledged across a restart, and passes its log lines on', async () => {
    const lines: string[] = [];
    const first = await startEmbeddedMongoThread({ dataDir: dir, log: (msg) => lines.push(msg) });
    const client = new MongoClient(`${first.uri}/app`);
    await client.db().collection('notes').insertMany([{ _id: 1, text: 'one' } as never, { _id: 2, text: 'two' } as never]);
    await client.close();
    await first.close();
    expect(lines).toContain('embedded store listening');

    const second = await startEmbeddedMongoThread({ dataDir: dir });
    const again = new MongoClient(`${second.uri}/app`);
    expect(await again.db().collection('notes').find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, text: 'one' },
      { _id: 2, text: 'two' },
    ]);
    await again.close();
    await second.close();
  });

  it('refuses a data directory another store holds, with the reason', async () => {
    const holder = await startEmbeddedMongoThread({ dataDir: dir });
    try {
      await expect(startEmbeddedMongoThread({ dataDir: dir })).rejects.toThrow(/is in use by process/);
    } finally {
      await holder.close();
    }
  });
});
