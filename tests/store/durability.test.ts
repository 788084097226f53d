import { Binary, Decimal128, EJSON, Long, ObjectId, Timestamp } from 'bson';
import type { Document } from 'bson';
import { spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LAZY_SYNC_MS,
  openFilePersistence,
} from '../../server/embedded-mongo/persistence/file-persistence.js';
import type { FilePersistence } from '../../server/embedded-mongo/persistence/file-persistence.js';
import type { CollectionImage, JournalOp } from '../../server/embedded-mongo/persistence/types.js';

let dir: string;
let warnings: string[] = [];
const open_: FilePersistence[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'durability-'));
  warnings = [];
});

afterEach(async () => {
  for (const p of open_.splice(0)) await p.close().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

async function openDir(options: Parameters<typeof openFilePersistence>[1] = {}) {
  const result = await openFilePersistence(dir, { warn: (m) => warnings.push(m), ...options });
  open_.push(result.persistence);
  return result;
}

async function closeAll(): Promise<void> {
  for (const p of open_.splice(0)) await p.close();
}

/** Canonical extended JSON keeps every BSON type, so equal strings mean an exact round trip. */
const canon = (v: unknown): string => EJSON.stringify(v as Document, { relaxed: false });

const put = (coll: string, doc: Document): JournalOp => ({ op: 'put', db: 'app', coll, doc });

async function logFiles(): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
}

describe('file persistence: log and group commit', () => {
  it('covers a turn of concurrent appends with one fsync, and far fewer fsyncs than appends overall', async () => {
    let syncs = 0;
    const { persistence } = await openDir({ onSync: () => syncs++ });
    await Promise.all(Array.from({ length: 500 }, (_, i) => persistence.append([put('c', { _id: i })])));
    expect(syncs).toBe(1);

    // Appends arriving over many turns while fsyncs are in flight are grouped behind them.
    syncs = 0;
    const pending: Promise<void>[] = [];
    for (let turn = 0; turn < 200; turn++) {
      for (let i = 0; i < 10; i++) pending.push(persistence.append([put('c', { _id: `${turn}-${i}` })]));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(pending);
    expect(syncs).toBeGreaterThan(0);
    expect(syncs).toBeLessThanOrEqual(200);
    expect(persistence.stats.syncs).toBe(1 + syncs);
    expect(persistence.stats.records).toBe(2500);
  });

  it('resolves an append that is not journaled before its fsync, which follows within LAZY_SYNC_MS', async () => {
    let syncs = 0;
    const { persistence } = await openDir({ onSync: () => syncs++ });
    const started = performance.now();
    await persistence.append([put('c', { _id: 'quick' })], false);
    expect(syncs).toBe(0);
    await expect.poll(() => syncs, { timeout: 5_000, interval: 5 }).toBe(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(LAZY_SYNC_MS - 5);
    // A journaled append right behind it gets an fsync of its own, at once.
    await persistence.append([put('c', { _id: 'sure' })]);
    expect(syncs).toBe(2);
    await closeAll();
    const { recovered } = await openDir();
    expect(recovered.records.map((r) => (r[0] as { doc: Document }).doc._id)).toEqual(['quick', 'sure']);
  });

  it('resolves an append only after the fsync that covers it', async () => {
    const events: string[] = [];
    const { persistence } = await openDir({ onSync: () => events.push('sync') });
    await Promise.all([
      persistence.append([put('c', { _id: 1 })]).then(() => events.push('a')),
      persistence.append([put('c', { _id: 2 })]).then(() => events.push('b')),
    ]);
    expect(events).toEqual(['sync', 'a', 'b']);
  });

  it('replays exactly what was appended, BSON types and record boundaries included', async () => {
    const records: JournalOp[][] = [
      [{ op: 'createCollection', db: 'app', coll: 'rooms', options: { capped: false } }],
      [
        {
          op: 'createIndex',
          db: 'app',
          coll: 'rooms',
          spec: { v: 2, key: { roomId: 1, seq: 1 }, name: 'roomId_1_seq_1', unique: true },
        },
      ],
      [
        put('rooms', {
          _id: new ObjectId(),
          big: Long.fromString('9007199254740993'),
          small: Long.fromNumber(5),
          int: 42,
          dbl: 1.5,
          price: Decimal128.fromString('12345.678900'),
          at: new Date('2024-05-01T10:00:00.123Z'),
          bin: new Binary(Buffer.from([0, 1, 2, 255]), 4),
          ts: new Timestamp({ t: 1, i: 2 }),
          nested: { arr: [1, 'two', { three: null }], empty: {} },
          'dotted.key': 'x',
          $dollar: true,
        }),
        put('rooms', { _id: 'second' }),
      ],
      [
        { op: 'delete', db: 'app', coll: 'rooms', id: new ObjectId() },
        { op: 'delete', db: 'app', coll: 'rooms', id: 'string-id' },
        { op: 'delete', db: 'app', coll: 'rooms', id: 7 },
        { op: 'delete', db: 'app', coll: 'rooms', id: Long.fromNumber(8) },
        { op: 'delete', db: 'app', coll: 'rooms', id: { compound: 1, key: 'k' } },
        { op: 'delete', db: 'app', coll: 'rooms', id: null },
      ],
      [{ op: 'dropIndex', db: 'app', coll: 'rooms', name: 'roomId_1_seq_1' }],
      [{ op: 'dropCollection', db: 'app', coll: 'rooms' }],
      [{ op: 'dropDatabase', db: 'app' }],
    ];
    const { persistence } = await openDir();
    for (const r of records) await persistence.append(r);
    await closeAll();

    const { recovered } = await openDir();
    expect(recovered.truncatedBytes).toBe(0);
    expect(recovered.collections).toEqual([]);
    expect(recovered.records.map(canon)).toEqual(records.map(canon));
    const doc = (recovered.records[2]?.[0] as { doc: Document }).doc;
    expect(doc.big).toBeInstanceOf(Long);
    expect(doc.small).toBeInstanceOf(Long);
    expect(doc.price).toBeInstanceOf(Decimal128);
    expect(doc.bin).toBeInstanceOf(Binary);
    expect(doc._id).toBeInstanceOf(ObjectId);
    // Binary values own their bytes instead of pinning the buffer the log was read into.
    expect((doc.bin as Binary).buffer.buffer.byteLength).toBeLessThan(64 * 1024);
  });

  it('keeps appending to the same log across restarts and records larger than 16 MiB', async () => {
    const { persistence } = await openDir();
    await persistence.append([put('c', { _id: 1 })]);
    await closeAll();
    const big = 'x'.repeat(7 * 1024 * 1024);
    const second = await openDir();
    await second.persistence.append([
      put('c', { _id: 2, big }),
      put('c', { _id: 3, big }),
      put('c', { _id: 4, big }),
    ]);
    await closeAll();
    const { recovered } = await openDir();
    expect(recovered.records.map((r) => r.length)).toEqual([1, 3]);
    expect(((recovered.records[1]?.[2] as { doc: Document }).doc.big as string).length).toBe(big.length);
    expect(await logFiles()).toEqual(['log-000001.wal']);
  });
});

describe('file persistence: torn and corrupt logs', () => {
  async function writeThree(): Promise<void> {
    const { persistence } = await openDir();
    for (let i = 1; i <= 3; i++) await persistence.append([put('c', { _id: i, v: 'value' })]);
    await closeAll();
  }

  it('truncates a torn tail (a partial record) and keeps appending after the last good record', async () => {
    await writeThree();
    const log = join(dir, 'log-000001.wal');
    const good = (await stat(log)).size;
    // A record header promising 100 bytes followed by only 10 of them.
    const torn = Buffer.alloc(18);
    torn.writeUInt32LE(100, 0);
    await appendFile(log, torn);

    const { persistence, recovered } = await openDir();
    expect(recovered.truncatedBytes).toBe(18);
    expect(warnings).toEqual([expect.stringMatching(/log-000001\.wal: .*torn write.*truncated 18 byte/)]);
    expect(await readFile(`${log}.torn-${good}`)).toEqual(torn);
    expect(recovered.records.map((r) => (r[0] as { doc: Document }).doc._id)).toEqual([1, 2, 3]);
    expect((await stat(log)).size).toBe(good);
    await persistence.append([put('c', { _id: 4 })]);
    await closeAll();

    const again = await openDir();
    expect(again.recovered.truncatedBytes).toBe(0);
    expect(again.recovered.records.map((r) => (r[0] as { doc: Document }).doc._id)).toEqual([1, 2, 3, 4]);
  });

  it('truncates garbage bytes and a few stray bytes shorter than a header', async () => {
    await writeThree();
    const log = join(dir, 'log-000001.wal');
    await appendFile(log, Buffer.from([0xde, 0xad, 0xbe]));
    const first = await openDir();
    expect(first.recovered.truncatedBytes).toBe(3);
    expect(first.recovered.records).toHaveLength(3);
    await closeAll();

    await appendFile(log, Buffer.from('garbage that is not a record at all'));
    const second = await openDir();
    expect(second.recovered.truncatedBytes).toBe(35);
    expect(second.recovered.records).toHaveLength(3);
  });

  it('drops a last record whose checksum does not match, as all or nothing', async () => {
    const { persistence } = await openDir();
    await persistence.append([put('c', { _id: 1 })]);
    await persistence.append([put('c', { _id: 2 }), put('c', { _id: 3 }), put('c', { _id: 4 })]);
    await closeAll();
    const log = join(dir, 'log-000001.wal');
    const bytes = await readFile(log);
    const firstRecord = 8 + bytes.readUInt32LE(0);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] ?? 0) ^ 0xff; // inside the multi-op record
    await writeFile(log, bytes);

    const { recovered } = await openDir();
    expect(recovered.records.map((r) => r.length)).toEqual([1]);
    expect(recovered.truncatedBytes).toBe(bytes.length - firstRecord);
  });

  it('refuses to start when a log before the last one is corrupt', async () => {
    const first = await openDir();
    for (let i = 0; i < 3; i++) await first.persistence.append([put('c', { _id: i })]);
    // A snapshot that fails after rotating leaves both logs in place.
    await expect(
      first.persistence.snapshot(() => {
        throw new Error('source failed');
      }),
    ).rejects.toThrow('source failed');
    await first.persistence.append([put('c', { _id: 'after' })]);
    await closeAll();
    expect(await logFiles()).toEqual(['log-000001.wal', 'log-000002.wal']);
    expect((await readdir(dir)).filter((n) => n.includes('snapshot'))).toEqual([]);

    const ok = await openDir();
    expect(ok.recovered.records).toHaveLength(4);
    await closeAll();

    const log = join(dir, 'log-000001.wal');
    const bytes = await readFile(log);
    bytes[12] = (bytes[12] ?? 0) ^ 0xff; // inside the first record
    await writeFile(log, bytes);
    await expect(openFilePersistence(dir)).rejects.toThrow(/log-000001\.wal is corrupt.*not the last log/);
    // The failed open released the lock.
    expect((await readdir(dir)).includes('LOCK')).toBe(false);
  });
});

describe('file persistence: snapshots', () => {
  /** A tiny stand-in for the engine: applies ops to maps and exposes them as images. */
  class Model {
    docs = new Map<string, Document>();
    apply(ops: JournalOp[]): void {
      for (const op of ops) {
        if (op.op === 'put') this.docs.set(canon(op.doc._id), op.doc);
        if (op.op === 'delete') this.docs.delete(canon(op.id));
      }
    }
    images(): CollectionImage[] {
      return [
        {
          db: 'app',
          coll: 'c',
          options: {},
          indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }],
          docs: this.docs.values(),
        },
        { db: 'app', coll: 'empty', options: { validator: {} }, indexes: [], docs: [] },
      ];
    }
  }

  it('recovers snapshot + the records after it, and deletes what the snapshot supersedes', async () => {
    const model = new Model();
    const { persistence } = await openDir({ snapshotEveryBytes: 4096 });
    const write = async (ops: JournalOp[]) => {
      model.apply(ops);
      await persistence.append(ops);
    };
    for (let i = 0; i < 100; i++) await write([put('c', { _id: i, n: Long.fromNumber(i) })]);
    expect(persistence.snapshotDue).toBe(true);
    await persistence.snapshot(() => model.images());
    expect(persistence.logBytes).toBe(0);
    expect(persistence.snapshotDue).toBe(false);
    for (let i = 100; i < 110; i++) await write([put('c', { _id: i })]);
    await write([{ op: 'delete', db: 'app', coll: 'c', id: 5 }]);
    const expectedAfter = persistence.logBytes;
    await closeAll();

    expect((await readdir(dir)).sort()).toEqual(['log-000002.wal', 'snapshot-000002.snap']);
    const { recovered, persistence: reopened } = await openDir();
    expect(reopened.logBytes).toBe(expectedAfter);
    expect(recovered.collections.map((c) => `${c.db}.${c.coll}`)).toEqual(['app.c', 'app.empty']);
    const snapDocs = [...(recovered.collections[0]?.docs ?? [])];
    expect(snapDocs).toHaveLength(100);
    expect(snapDocs[7]?.n).toBeInstanceOf(Long);
    expect(recovered.collections[0]?.indexes).toEqual([{ v: 2, key: { _id: 1 }, name: '_id_' }]);
    expect(recovered.collections[1]?.options).toEqual({ validator: {} });
    expect(recovered.records).toHaveLength(11);

    // Rebuilding from the recovered state gives the same store.
    const rebuilt = new Model();
    for (const d of snapDocs) rebuilt.docs.set(canon(d._id), d);
    for (const r of recovered.records) rebuilt.apply(r);
    expect([...rebuilt.docs.values()].map(canon).sort()).toEqual([...model.docs.values()].map(canon).sort());
  });

  it('waits for as much log as the last snapshot before the next, also after a restart', async () => {
    const model = new Model();
    const { persistence } = await openDir({ snapshotEveryBytes: 4096 });
    const pad = 'x'.repeat(200);
    const write = async (ops: JournalOp[]) => {
      model.apply(ops);
      await persistence.append(ops);
    };
    for (let i = 0; i < 300; i++) await write([put('c', { _id: i, pad })]);
    await persistence.snapshot(() => model.images());
    const size = persistence.snapshotBytes;
    expect(size).toBe((await stat(join(dir, 'snapshot-000002.snap'))).size);
    expect(size).toBeGreaterThan(10 * 4096);
    // A store that grew past the minimum is not snapshotted again after the minimum of log.
    for (let i = 300; persistence.logBytes < size; i++) {
      expect(persistence.snapshotDue).toBe(false);
      await write([put('c', { _id: i, pad })]);
    }
    expect(persistence.snapshotDue).toBe(true);
    await closeAll();
    const { persistence: reopened } = await openDir({ snapshotEveryBytes: 4096 });
    expect(reopened.snapshotBytes).toBe(size);
    expect(reopened.snapshotDue).toBe(true);
  });

  it('round-trips many documents, documents larger than a frame, and Binary through a snapshot', async () => {
    const docs: Document[] = [];
    for (let i = 0; i < 20_000; i++)
      docs.push({
        _id: new ObjectId(),
        i,
        n: Long.fromNumber(i),
        uuid: new Binary(Buffer.alloc(16, i % 256), 4),
      });
    docs.splice(
      7000,
      0,
      { _id: 'big', text: 'y'.repeat(300 * 1024) },
      { _id: 'bigger', text: 'z'.repeat(700 * 1024) },
    );
    const { persistence } = await openDir();
    await persistence.snapshot(() => [{ db: 'app', coll: 'c', options: {}, indexes: [], docs }]);
    await closeAll();
    const { recovered } = await openDir();
    const back = [...(recovered.collections[0]?.docs ?? [])];
    expect(back.length).toBe(docs.length);
    expect(back.map(canon)).toEqual(docs.map(canon));
    expect((back[0]?.uuid as Binary).buffer.buffer.byteLength).toBeLessThan(64 * 1024);
  });

  it('takes a snapshot while writes continue, and the log after the rotation corrects it', async () => {
    const model = new Model();
    const { persistence } = await openDir();
    const write = (ops: JournalOp[]) => {
      model.apply(ops);
      return persistence.append(ops);
    };
    for (let i = 0; i < 3000; i++) void write([put('c', { _id: i, v: 0 })]);
    const writes: Promise<void>[] = [];
    const snap = persistence.snapshot(() => model.images());
    for (let round = 1; round <= 20; round++) {
      for (let i = 0; i < 3000; i += 97) writes.push(write([put('c', { _id: i, v: round })]));
      writes.push(write([{ op: 'delete', db: 'app', coll: 'c', id: round }]));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all([snap, ...writes]);
    await closeAll();

    const { recovered } = await openDir();
    const rebuilt = new Model();
    for (const d of recovered.collections[0]?.docs ?? []) rebuilt.docs.set(canon(d._id), d);
    for (const r of recovered.records) rebuilt.apply(r);
    expect(rebuilt.docs.size).toBe(model.docs.size);
    expect([...rebuilt.docs.values()].map(canon).sort()).toEqual([...model.docs.values()].map(canon).sort());
  });

  it('ignores an interrupted snapshot (temp file) and refuses a damaged one', async () => {
    const model = new Model();
    const { persistence } = await openDir();
    const ops = [put('c', { _id: 1 })];
    model.apply(ops);
    await persistence.append(ops);
    await persistence.snapshot(() => model.images());
    await closeAll();
    await writeFile(join(dir, 'snapshot-000003.snap.tmp'), 'half a snapshot');

    const ok = await openDir();
    expect([...(ok.recovered.collections[0]?.docs ?? [])]).toHaveLength(1);
    await closeAll();
    expect((await readdir(dir)).some((n) => n.endsWith('.tmp'))).toBe(false);

    const snap = join(dir, 'snapshot-000002.snap');
    const bytes = await readFile(snap);
    await writeFile(snap, bytes.subarray(0, bytes.length - 5));
    await expect(openFilePersistence(dir)).rejects.toThrow(/snapshot-000002\.snap is unreadable/);
  });
});

describe('file persistence: lock', () => {
  it('refuses a second opener of the same directory, naming it and the holding pid', async () => {
    await openDir();
    const err = await openFilePersistence(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toContain(`process ${process.pid}`);
    await closeAll();
    const again = await openDir();
    expect(again.recovered.records).toEqual([]);
  });

  it('replaces a stale lock left by a process that no longer exists', async () => {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(child.stdout.toString());
    await writeFile(join(dir, 'LOCK'), `${deadPid}\n`);
    const { persistence } = await openDir();
    expect((await readFile(join(dir, 'LOCK'), 'utf8')).trim()).toBe(String(process.pid));
    await persistence.close();
    expect((await readdir(dir)).includes('LOCK')).toBe(false);
  });

  it('creates a missing data directory, parents included', async () => {
    const nested = join(dir, 'a', 'b');
    const { persistence, recovered } = await openFilePersistence(nested);
    open_.push(persistence);
    expect(recovered).toEqual({ collections: [], records: [], truncatedBytes: 0 });
    await persistence.append([put('c', { _id: 1 })]);
    await closeAll();
    expect((await readdir(nested)).sort()).toEqual(['log-000001.wal']);
  });

  it('rejects appends after close and leaves a clean log', async () => {
    const { persistence } = await openDir();
    const last = persistence.append([put('c', { _id: 1 })]);
    await persistence.close();
    await last;
    await expect(persistence.append([put('c', { _id: 2 })])).rejects.toThrow(/closed/);
    const fh = await open(join(dir, 'log-000001.wal'), 'r');
    expect((await fh.stat()).size).toBeGreaterThan(8);
    await fh.close();
  });
});
