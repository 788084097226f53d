import { MongoClient } from 'mongodb';
import type { Document } from 'mongodb';
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { openTestStore, uniqueDbName } from './helpers.js';
import type { TestStore } from './helpers.js';

// `npx vitest bench tests/store/range-query.bench.ts`: latency of the indexed range query the
// event log relies on, over 100,000 documents (10 rooms × 10,000 events), through the driver.
let store: TestStore;
let client: MongoClient;
let dbName: string;
let n = 0;

beforeAll(async () => {
  store = await openTestStore();
  dbName = uniqueDbName('range_bench');
  client = await new MongoClient(store.url(dbName)).connect();
  const events = client.db(dbName).collection('events');
  await events.createIndex({ roomId: 1, seq: 1 }, { unique: true });
  const docs: Document[] = [];
  for (let s = 0; s < 10_000; s++)
    for (let r = 0; r < 10; r++) docs.push({ roomId: `room${r}`, seq: s, body: 'event body' });
  for (let i = 0; i < docs.length; i += 20_000) await events.insertMany(docs.slice(i, i + 20_000));
});

afterAll(async () => {
  await client?.db(dbName).dropDatabase();
  await client?.close();
  await store?.close();
});

describe('indexed range query at 100k documents', () => {
  bench('find({ roomId, seq: { $gt } }).sort({ seq: 1 }).limit(50)', async () => {
    n = (n + 997) % 9_900;
    await client
      .db(dbName)
      .collection('events')
      .find({ roomId: `room${n % 10}`, seq: { $gt: n } })
      .sort({ seq: 1 })
      .limit(50)
      .toArray();
  });
});
