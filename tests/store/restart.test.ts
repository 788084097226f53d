import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Binary, Decimal128, Double, EJSON, Int32, Long } from 'bson';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedMongo } from '../../server/embedded-mongo/index.js';

// Restarting needs the embedded store itself, so this file does not run against MONGODB_URI.
describe.skipIf(Boolean(process.env.MONGODB_URI))('embedded store restart', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'store-restart-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('recovers documents, collections and indexes from its data directory', async () => {
    const first = await startEmbeddedMongo({ port: 0, dataDir });
    const c1 = await new MongoClient(`${first.uri}/app`).connect();
    const db = c1.db('app');
    await db.collection('users').createIndex({ email: 1 }, { unique: true });
    await db
      .collection('users')
      .insertMany(Array.from({ length: 100 }, (_, i) => ({ email: `u${i}@x`, n: i })));
    await db.collection('users').updateMany({ n: { $lt: 10 } }, { $inc: { n: 1000 } });
    await db.collection('users').deleteMany({ n: { $gte: 90, $lt: 100 } });
    await db.collection('scratch').insertOne({ a: 1 });
    await db.collection('scratch').drop();
    await db.createCollection('empty');
    await c1.close();
    await first.close();

    const second = await startEmbeddedMongo({ port: 0, dataDir });
    const c2 = await new MongoClient(`${second.uri}/app`).connect();
    try {
      const users = c2.db('app').collection('users');
      expect(await users.countDocuments()).toBe(90);
      expect(await users.countDocuments({ n: { $gte: 1000 } })).toBe(10);
      const names = (await c2.db('app').listCollections().toArray()).map((c) => c.name).sort();
      expect(names).toEqual(['empty', 'users']);
      expect((await users.listIndexes().toArray()).map((i) => i.name).sort()).toEqual(['_id_', 'email_1']);
      expect(await users.insertOne({ email: 'u50@x' }).catch((e: { code?: number }) => e.code)).toBe(11000);
    } finally {
      await c2.close();
      await second.close();
    }
  });
});

describe.skipIf(Boolean(process.env.MONGODB_URI))('embedded store journal', () => {
  it('keeps inserted documents exactly, BSON types and field order included, across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'store-journal-'));
    const docs = [
      // _id first: journaled from the bytes as the driver sent them.
      {
        _id: 'as-sent',
        double: new Double(1),
        int: new Int32(7),
        long: Long.fromString('9007199254740993'),
        price: Decimal128.fromString('12.50'),
        at: new Date('2026-01-02T03:04:05.678Z'),
        bin: new Binary(Buffer.from([0, 1, 255]), 0),
        nested: { list: [1, 'two', { three: null }], empty: {} },
        text: 'é — ✓',
      },
      // _id added by the driver at the end: the store puts it first, so journals its own encoding.
      { k: 'no-id', n: 2.5 },
    ];
    const canon = (d: unknown) => EJSON.stringify(d as object, { relaxed: false });
    const first = await startEmbeddedMongo({ port: 0, dataDir });
    const c1 = await new MongoClient(`${first.uri}/app`).connect();
    await c1
      .db('app')
      .collection('typed')
      .insertMany(docs.map((d) => ({ ...d })) as never[]);
    const before = await c1.db('app').collection('typed').find({}, { promoteValues: false }).toArray();
    await c1.close();
    await first.close();

    const second = await startEmbeddedMongo({ port: 0, dataDir });
    const c2 = await new MongoClient(`${second.uri}/app`).connect();
    try {
      const after = await c2.db('app').collection('typed').find({}, { promoteValues: false }).toArray();
      expect(after.map(canon)).toEqual(before.map(canon));
      expect(Object.keys(after[0]!)).toEqual(Object.keys(docs[0]!));
      expect((after[1]?._id as { _bsontype?: string })._bsontype).toBe('ObjectId');
      expect(Object.keys(after[1]!)[0]).toBe('_id');
    } finally {
      await c2.close();
      await second.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(Boolean(process.env.MONGODB_URI))('embedded store TTL sweep', () => {
  it('deletes documents whose TTL field has expired', async () => {
    const store = await startEmbeddedMongo({ port: 0, ttlSweepMs: 100 });
    const client = await new MongoClient(`${store.uri}/app`).connect();
    try {
      const c = client.db('app').collection('sessions');
      await c.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
      await c.insertMany([
        { k: 'old', expiresAt: new Date(Date.now() - 1000) },
        { k: 'new', expiresAt: new Date(Date.now() + 3_600_000) },
        { k: 'none' },
      ]);
      const deadline = Date.now() + 5000;
      while ((await c.countDocuments({ k: 'old' })) > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect((await c.find().toArray()).map((d) => d.k).sort()).toEqual(['new', 'none']);
    } finally {
      await client.close();
      await store.close();
    }
  });
});
