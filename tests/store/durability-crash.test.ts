import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFilePersistence } from '../../server/embedded-mongo/persistence/file-persistence.js';

/*
 * The store runs as a child process (`server/embedded-mongo/main.ts`), is killed with SIGKILL while
 * a client writes as fast as it can, and must come back with every write it acknowledged.
 */

const repoRoot = resolve(import.meta.dirname, '../..');
const WRITE_MS = 2500;

interface RunningStore {
  child: ChildProcess;
  uri: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function startStore(dataDir: string): Promise<RunningStore> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/embedded-mongo/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, DB_PORT: '0', DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const uri = await new Promise<string>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`store did not start:\n${output}`)), 20_000);
    const check = (): void => {
      const m = /embedded store ready: (mongodb:\/\/[^/\s]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        ready(m[1] as string);
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`store exited with ${String(code)} before it was ready:\n${output}`));
    });
  });
  return { child, uri, output: () => output, exited };
}

async function stop(store: RunningStore, signal: NodeJS.Signals): Promise<number | null> {
  if (store.child.exitCode === null && store.child.signalCode === null) store.child.kill(signal);
  return store.exited;
}

function client(uri: string): MongoClient {
  return new MongoClient(`${uri}/crash`, {
    serverSelectionTimeoutMS: 2000,
    maxPoolSize: 20,
    retryWrites: false,
  });
}

async function allIds(uri: string): Promise<Set<string>> {
  const c = client(uri);
  try {
    const docs = await c
      .db()
      .collection<{ _id: string }>('writes')
      .find({}, { projection: { _id: 1 } })
      .toArray();
    return new Set(docs.map((d) => d._id));
  } finally {
    await c.close();
  }
}

describe('embedded store crash safety', () => {
  let dataDir: string;
  let store: RunningStore | undefined;
  const acknowledged: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'store-crash-'));
  });

  afterAll(async () => {
    if (store) await stop(store, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('loses no acknowledged write, journaled (w: majority) or not (w: 1), when SIGKILLed mid-stream', async () => {
    store = await startStore(dataDir);
    const running = store;

    // A second process on the same directory is refused, naming the directory and the holder.
    await expect(openFilePersistence(dataDir)).rejects.toThrow(
      new RegExp(
        `${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by process ${String(running.child.pid)}`,
      ),
    );

    const c = client(running.uri);
    const coll = c.db().collection<{ _id: string; w: number; i: number; pad: string }>('writes');
    await coll.insertOne({ _id: 'first', w: -1, i: -1, pad: '' });
    acknowledged.push('first');
    let stopped = false;
    const pad = 'p'.repeat(200);
    // Half the writers ask for w: 1, acknowledged once in the log file but before its fsync: a
    // crash of the store's process must not lose those either.
    const concern = (w: number) => ({ writeConcern: w % 2 === 0 ? { w: 'majority' as const } : { w: 1 } });
    const single = async (w: number): Promise<void> => {
      for (let i = 0; !stopped; i++) {
        const _id = `s${w}-${i}`;
        await coll.insertOne({ _id, w, i, pad }, concern(w));
        acknowledged.push(_id);
      }
    };
    const batched = async (w: number): Promise<void> => {
      for (let i = 0; !stopped; i++) {
        const docs = Array.from({ length: 50 }, (_, k) => ({ _id: `b${w}-${i}-${k}`, w, i, pad }));
        await coll.insertMany(docs, concern(w));
        for (const d of docs) acknowledged.push(d._id);
      }
    };
    const writers = [...Array.from({ length: 16 }, (_, w) => single(w)), batched(100), batched(101)].map(
      (p) => p.catch(() => {}),
    );
    await new Promise((r) => setTimeout(r, WRITE_MS));
    const ackedBeforeKill = acknowledged.length;
    running.child.kill('SIGKILL');
    await running.exited;
    stopped = true;
    await Promise.all(writers);
    await c.close(true);
    expect(ackedBeforeKill).toBeGreaterThan(500);

    store = await startStore(dataDir);
    const present = await allIds(store.uri);
    const missing = acknowledged.filter((id) => !present.has(id));
    expect(missing).toEqual([]);
  });

  it('starts after the last log record is corrupted, truncating it and reporting so', async () => {
    const running = store as RunningStore;
    const c = client(running.uri);
    await c.db().collection<{ _id: string }>('writes').insertOne({ _id: 'last' });
    await c.close();
    expect(await stop(running, 'SIGTERM')).toBe(0);

    const lastLog = (await readdir(dataDir))
      .filter((n) => n.endsWith('.wal'))
      .sort()
      .at(-1) as string;
    const fh = await open(join(dataDir, lastLog), 'r+');
    const { size } = await fh.stat();
    const tail = Buffer.alloc(4);
    await fh.read(tail, 0, 4, size - 4);
    for (let i = 0; i < tail.length; i++) tail[i] = (tail[i] ?? 0) ^ 0xa5;
    await fh.write(tail, 0, 4, size - 4);
    await fh.close();

    store = await startStore(dataDir);
    expect(store.output()).toMatch(/truncat/i);
    const present = await allIds(store.uri);
    expect(present.has('last')).toBe(false);
    expect(acknowledged.filter((id) => !present.has(id))).toEqual([]);
    expect(await stop(store, 'SIGTERM')).toBe(0);
    store = undefined;
  });
});
