import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnStore } from '../support/server.js';

/* `npm run db`'s settings: the store on its own reads its environment as the server does. */
describe('the standalone store (npm run db)', () => {
  let dataDir = '';
  afterEach(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('starts with a heap growth set, and refuses one that is not a whole percentage, naming it', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'workroom-standalone-'));
    // Should it start anyway, it is stopped here rather than left running.
    const refused = await spawnStore({ DB_PORT: '0', DATA_DIR: dataDir, HEAP_GROWING_PERCENT: 'lots' }).then(
      async (store) => `started (stopped: ${await store.stop()})`,
      (err: unknown) => String(err),
    );
    expect(refused).toMatch(
      /exited with 1[\s\S]*HEAP_GROWING_PERCENT is not a whole number from 0 to 1000: lots/,
    );

    const store = await spawnStore({ DB_PORT: '0', DATA_DIR: dataDir, HEAP_GROWING_PERCENT: '300' });
    const client = await MongoClient.connect(store.url, { serverSelectionTimeoutMS: 5000 });
    try {
      expect(await client.db('workroom').command({ ping: 1 })).toMatchObject({ ok: 1 });
    } finally {
      await client.close();
      expect(await store.stop()).toBe(0);
    }
  });
});
