import net from 'node:net';
import { Long, MongoClient, MongoServerError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, uniqueDbName } from './helpers.js';
import type { TestStore } from './helpers.js';

let store: TestStore;
let client: MongoClient;
let dbName: string;

beforeAll(async () => {
  store = await openTestStore();
  dbName = uniqueDbName('protocol');
  client = await new MongoClient(store.url(dbName), { serverSelectionTimeoutMS: 5000 }).connect();
});

afterAll(async () => {
  await client?.db(dbName).dropDatabase();
  await client?.close();
  await store?.close();
});

/** A TCP relay that records the opCode of every message in each direction. */
async function opcodeRecordingProxy(
  target: URL,
): Promise<{ port: number; opcodes: { toServer: number[]; toClient: number[] }; close(): Promise<void> }> {
  const opcodes = { toServer: [] as number[], toClient: [] as number[] };
  const sockets = new Set<net.Socket>();
  const record = (into: number[]): ((chunk: Buffer) => void) => {
    let buf = Buffer.alloc(0);
    return (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 16 && buf.length >= buf.readInt32LE(0)) {
        into.push(buf.readInt32LE(12));
        buf = buf.subarray(buf.readInt32LE(0));
      }
    };
  };
  const server = net.createServer((down) => {
    const up = net.connect(Number(target.port), target.hostname);
    sockets.add(down).add(up);
    down.on('data', record(opcodes.toServer));
    up.on('data', record(opcodes.toClient));
    down.pipe(up).pipe(down);
    const end = (): void => {
      down.destroy();
      up.destroy();
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    opcodes,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function codeOf(p: Promise<unknown>): Promise<number | undefined> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  // The driver wraps code 20 on a write in a "retryable writes" error that keeps the server's error.
  let e: unknown = err;
  while (e && typeof e === 'object') {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    e = (e as { originalError?: unknown }).originalError;
  }
  return undefined;
}

describe('wire protocol and commands', () => {
  it('answers hello as a writable standalone with wire versions and limits', async () => {
    const hello = await client.db('admin').command({ hello: 1 });
    expect(hello.isWritablePrimary).toBe(true);
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(9);
    expect(hello.minWireVersion).toBeGreaterThanOrEqual(0);
    expect(hello.maxBsonObjectSize).toBe(16 * 1024 * 1024);
    expect(hello.maxMessageSizeBytes).toBe(48_000_000);
    expect(hello.logicalSessionTimeoutMinutes).toBeGreaterThan(0);
    expect((await client.db('admin').command({ ping: 1 })).ok).toBe(1);
    expect(typeof (await client.db('admin').command({ buildInfo: 1 })).version).toBe('string');
  });

  it('answers unknown commands with 59 CommandNotFound', async () => {
    const err: unknown = await client
      .db(dbName)
      .command({ noSuchCommandHere: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(59);
    expect((err as MongoServerError).codeName).toBe('CommandNotFound');
  });

  it('refuses transactions with code 20 and applies nothing', async () => {
    const raw = await codeOf(
      client.db(dbName).command({
        find: 'txn',
        filter: {},
        startTransaction: true,
        autocommit: false,
        txnNumber: Long.fromNumber(1),
      }),
    );
    expect(raw).toBe(20);
    const coll = client.db(dbName).collection('txn');
    await coll.insertOne({ k: 'before' });
    const session = client.startSession();
    try {
      session.startTransaction();
      const code = await codeOf(coll.insertOne({ k: 'inside' }, { session }));
      expect(code).toBe(20);
      await session.abortTransaction().catch(() => undefined);
    } finally {
      await session.endSession();
    }
    expect(await coll.countDocuments({ k: 'inside' })).toBe(0);
  });

  it('accepts sessions outside transactions', async () => {
    const coll = client.db(dbName).collection('sessions');
    await client.withSession(async (session) => {
      await coll.insertOne({ a: 1 }, { session });
      expect(await coll.findOne({ a: 1 }, { session })).toMatchObject({ a: 1 });
    });
  });

  it('answers create on an existing collection with 48 and listIndexes on a missing one with 26', async () => {
    const db = client.db(dbName);
    await db.createCollection('exists');
    expect(await codeOf(db.createCollection('exists'))).toBe(48);
    expect(await codeOf(db.collection('never_created').listIndexes().toArray())).toBe(26);
    const names = (await db.listCollections({ name: 'exists' }).toArray()).map((c) => c.name);
    expect(names).toEqual(['exists']);
  });

  it('pages a cursor with getMore (int64 ids) and kills it', async () => {
    const coll = client.db(dbName).collection('paging');
    await coll.insertMany(Array.from({ length: 350 }, (_, i) => ({ i })));
    const first = await client
      .db(dbName)
      .command({ find: 'paging', filter: {}, sort: { i: 1 }, batchSize: 100 }, { promoteLongs: false });
    expect(first.cursor.id).toBeInstanceOf(Long);
    expect(first.cursor.firstBatch).toHaveLength(100);
    const more = await client
      .db(dbName)
      .command({ getMore: first.cursor.id, collection: 'paging', batchSize: 200 });
    expect(more.cursor.nextBatch).toHaveLength(200);
    expect(more.cursor.nextBatch[0].i).toBe(100);
    const killed = await client.db(dbName).command({ killCursors: 'paging', cursors: [first.cursor.id] });
    expect(killed.cursorsKilled).toHaveLength(1);
    expect(await codeOf(client.db(dbName).command({ getMore: first.cursor.id, collection: 'paging' }))).toBe(
      43,
    );
    // The driver's own cursor over the same data, in small batches.
    expect(await coll.find({}, { batchSize: 7 }).sort({ i: -1 }).toArray()).toHaveLength(350);
  });

  it('keeps batches under 16 MiB', async () => {
    const coll = client.db(dbName).collection('big');
    const blob = 'x'.repeat(2 * 1024 * 1024);
    await coll.insertMany(Array.from({ length: 12 }, (_, i) => ({ i, blob })));
    const first = await client.db(dbName).command({ find: 'big', filter: {}, batchSize: 101 });
    expect(first.cursor.firstBatch.length).toBeLessThan(12);
    expect(await coll.countDocuments()).toBe(12);
    expect((await coll.find().toArray()).length).toBe(12);
  });

  it('compresses with zlib when the client asks', async () => {
    const proxy = await opcodeRecordingProxy(
      new URL(store.url(dbName).replace(/^mongodb(\+srv)?:/, 'http:')),
    );
    try {
      const zclient = await new MongoClient(
        `mongodb://127.0.0.1:${proxy.port}/${dbName}?directConnection=true`,
        {
          compressors: 'zlib',
          serverSelectionTimeoutMS: 5000,
        },
      ).connect();
      try {
        const coll = zclient.db(dbName).collection('zipped');
        await coll.insertMany(
          Array.from({ length: 50 }, (_, i) => ({ i, text: 'compressible '.repeat(100) })),
        );
        const back = await coll.find().sort({ i: 1 }).toArray();
        expect(back).toHaveLength(50);
        expect(back[49]?.text).toBe('compressible '.repeat(100));
      } finally {
        await zclient.close();
      }
      expect(proxy.opcodes.toServer).toContain(2012);
      expect(proxy.opcodes.toClient).toContain(2012);
    } finally {
      await proxy.close();
    }
  });
});
