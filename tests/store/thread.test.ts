import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { semiSpaceFlag, startEmbeddedMongoThread } from '../../server/embedded-mongo/thread.js';

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
    await client
      .db()
      .collection('notes')
      .insertMany([{ _id: 1, text: 'one' } as never, { _id: 2, text: 'two' } as never]);
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

  it('says so in its log when a process-wide semi-space flag overrides its young generation', async () => {
    const saved = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `${saved ?? ''} --max-semi-space-size=32`;
    const lines: string[] = [];
    try {
      const store = await startEmbeddedMongoThread({ log: (msg) => lines.push(msg) });
      await store.close();
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
    }
    expect(lines.filter((l) => l.startsWith('--max-semi-space-size=32 overrides'))).toHaveLength(1);
    expect(semiSpaceFlag(['--max_semi_space_size', '64'])).toBe('--max_semi_space_size');
    expect(semiSpaceFlag(['--max-old-space-size=4096', '--max-semi-space-sizes'])).toBeUndefined();
  });
});
