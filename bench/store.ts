/**
 * Benchmark of the embedded MongoDB-compatible store, measured through the real mongodb driver:
 *
 *   npm run bench:store                 # 1,000,000 documents
 *   npm run bench:store -- --docs 200000
 *
 * Reports single inserts/s (awaited one at a time, and 64 in flight), batched inserts/s
 * (insertMany of 1,000, which also loads the collection), indexed range-query latency at the full
 * size, and recovery time and RSS of a fresh process reopening the data directory. Prints a table
 * and writes bench/results/store.json.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import type { Collection } from 'mongodb';
import { startEmbeddedMongo } from '../server/embedded-mongo/index.js';
import { openFilePersistence } from '../server/embedded-mongo/persistence/file-persistence.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..');

interface Message {
  roomId: string;
  seq: number;
  authorId: string;
  kind: string;
  text: string;
  at: Date;
}

const DOCS_PER_ROOM = 1000;
const TEXT = 'Milestone two is delivered; please review the attached report and confirm the terms.';

function message(i: number): Message {
  return {
    roomId: `room-${String(Math.floor(i / DOCS_PER_ROOM)).padStart(6, '0')}`,
    seq: i % DOCS_PER_ROOM,
    authorId: `user-${i % 97}`,
    kind: 'chat',
    text: TEXT,
    at: new Date(1_700_000_000_000 + i * 1000),
  };
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

/** Child mode: only read the data directory (snapshot + log), as the store does first at start-up. */
async function readOnly(dataDir: string): Promise<void> {
  const t0 = performance.now();
  const { persistence, recovered } = await openFilePersistence(dataDir);
  const readMs = performance.now() - t0;
  let docs = 0;
  for (const c of recovered.collections) for (const _ of c.docs) docs++;
  let ops = 0;
  for (const r of recovered.records) ops += r.length;
  await persistence.close();
  process.stdout.write(`${JSON.stringify({ readMs, snapshotDocs: docs, logOps: ops })}\n`);
}

/** Child mode: open the data directory, report recovery time and memory, exit. */
async function recoverOnly(dataDir: string): Promise<void> {
  const t0 = performance.now();
  const store = await startEmbeddedMongo({ port: 0, dataDir });
  const recoveryMs = performance.now() - t0;
  const client = new MongoClient(`${store.uri}/bench`);
  const count = await client.db().collection('messages').countDocuments({});
  await client.close();
  const mem = process.memoryUsage();
  process.stdout.write(`${JSON.stringify({ recoveryMs, count, rss: mem.rss, heapUsed: mem.heapUsed })}\n`);
  await store.close();
}

/** Runs this script in a fresh process in one of its child modes and returns the JSON it prints. */
function runChild<T>(mode: string, dataDir: string): Promise<T> {
  return new Promise<T>((done, fail) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(here, 'store.ts'), mode, dataDir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        if (code !== 0) throw new Error(`exit code ${String(code)}`);
        done(JSON.parse(line) as T);
      } catch (err) {
        fail(new Error(`${mode} run failed (${String(err)}): ${out}`));
      }
    });
  });
}

async function timedLoop(
  seconds: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) await op(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return next / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const recoverDir = argValue('--recover-only');
  if (recoverDir) return recoverOnly(recoverDir);
  const readDir = argValue('--read-only');
  if (readDir) return readOnly(readDir);

  const totalDocs = Number(argValue('--docs') ?? 1_000_000);
  const singleSeconds = Number(argValue('--seconds') ?? 5);
  if (!Number.isInteger(totalDocs) || totalDocs < 1000) throw new Error('--docs must be an integer ≥ 1000');

  const dataDir = await mkdtemp(join(os.tmpdir(), 'bench-store-'));
  progress(`embedded store benchmark: ${fmt(totalDocs)} documents, data in ${dataDir}`);
  const store = await startEmbeddedMongo({ port: 0, dataDir });
  const client = new MongoClient(`${store.uri}/bench`, { maxPoolSize: 64 });
  try {
    const db = client.db();

    // 1. Single inserts: one awaited at a time, then 64 in flight.
    const single = db.collection<Message>('single');
    progress(`single insertOne, awaited one at a time (${singleSeconds} s)…`);
    const singleSerial = await timedLoop(singleSeconds, 1, (i) => single.insertOne(message(i)));
    progress(`  ${fmt(singleSerial)} inserts/s`);
    progress(`single insertOne, 64 concurrent (${singleSeconds} s)…`);
    const singleConcurrent = await timedLoop(singleSeconds, 64, (i) => single.insertOne(message(i)));
    progress(`  ${fmt(singleConcurrent)} inserts/s`);
    await single.drop();

    // 2. Batched inserts: loads the collection the queries run on.
    const messages: Collection<Message> = db.collection<Message>('messages');
    await messages.createIndex({ roomId: 1, seq: 1 }, { unique: true });
    progress(
      `insertMany of 1,000 into a collection with a unique {roomId, seq} index, up to ${fmt(totalDocs)}…`,
    );
    const tLoad = performance.now();
    let lastReport = tLoad;
    for (let start = 0; start < totalDocs; start += 1000) {
      const batch: Message[] = [];
      for (let i = start; i < Math.min(totalDocs, start + 1000); i++) batch.push(message(i));
      await messages.insertMany(batch, { ordered: true });
      const now = performance.now();
      if (now - lastReport > 5000) {
        lastReport = now;
        const done = start + batch.length;
        const pct = ((done / totalDocs) * 100).toFixed(0);
        progress(
          `  ${fmt(done)} (${pct}%), ${fmt(done / ((now - tLoad) / 1000))} docs/s, rss ${mib(process.memoryUsage().rss)} MiB`,
        );
      }
    }
    const batched = totalDocs / ((performance.now() - tLoad) / 1000);
    progress(`  ${fmt(batched)} docs/s`);

    // 3. Indexed range queries at full size.
    const rooms = Math.ceil(totalDocs / DOCS_PER_ROOM);
    const queries = 2000;
    progress(`${fmt(queries)} range queries find({roomId, seq: {$gt: n}}).sort({seq: 1}).limit(50)…`);
    const plan = await messages
      .find({ roomId: 'room-000000', seq: { $gt: 10 } })
      .sort({ seq: 1 })
      .limit(50)
      .explain();
    const latencies: number[] = [];
    let returned = 0;
    for (let q = 0; q < queries + 200; q++) {
      const roomId = `room-${String(q % rooms).padStart(6, '0')}`;
      const n = (q * 7919) % (DOCS_PER_ROOM - 60);
      const t0 = performance.now();
      const docs = await messages
        .find({ roomId, seq: { $gt: n } })
        .sort({ seq: 1 })
        .limit(50)
        .toArray();
      const ms = performance.now() - t0;
      if (q >= 200) latencies.push(ms); // the first 200 warm up
      returned += docs.length;
    }
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    progress(
      `  p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms (${fmt(returned / (queries + 200))} docs per query)`,
    );

    // 4. Recovery: clean shutdown, then a fresh process reopens the directory.
    const rssLoaded = process.memoryUsage().rss;
    await client.close();
    await store.close();
    const diskBytes = await dirBytes(dataDir);
    const files = (await readdir(dataDir)).sort();
    progress(
      `store closed; data dir ${mib(diskBytes)} MiB (${files.join(', ')}); reopening in a fresh process…`,
    );
    const read = await runChild<{ readMs: number; snapshotDocs: number; logOps: number }>(
      '--read-only',
      dataDir,
    );
    progress(
      `  reading snapshot + log alone: ${(read.readMs / 1000).toFixed(2)} s (${fmt(read.snapshotDocs)} snapshot documents, ${fmt(read.logOps)} log operations)`,
    );
    const child = await runChild<{ recoveryMs: number; count: number; rss: number; heapUsed: number }>(
      '--recover-only',
      dataDir,
    );
    if (child.count !== totalDocs)
      throw new Error(`recovered ${child.count} documents, expected ${totalDocs}`);
    progress(
      `  recovered ${fmt(child.count)} documents in ${(child.recoveryMs / 1000).toFixed(2)} s, rss ${mib(child.rss)} MiB`,
    );

    const cpus = os.cpus();
    const result = {
      date: new Date().toISOString(),
      machine: {
        cpus: cpus.length,
        cpuModel: cpus[0]?.model ?? 'unknown',
        memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
        platform: `${os.type()} ${os.release()} ${os.arch()}`,
        node: process.version,
      },
      docs: totalDocs,
      inserts: {
        singleAwaitedPerSec: Math.round(singleSerial),
        single64ConcurrentPerSec: Math.round(singleConcurrent),
        batched1000DocsPerSec: Math.round(batched),
      },
      rangeQuery: {
        query: 'find({ roomId, seq: { $gt: n } }).sort({ seq: 1 }).limit(50), unique {roomId: 1, seq: 1}',
        queries,
        p50Ms: Number(p50.toFixed(3)),
        p99Ms: Number(p99.toFixed(3)),
        plan: JSON.stringify(
          (plan as { queryPlanner?: { winningPlan?: unknown } }).queryPlanner?.winningPlan ?? null,
        ),
      },
      recovery: {
        seconds: Number((child.recoveryMs / 1000).toFixed(2)),
        readSnapshotAndLogSeconds: Number((read.readMs / 1000).toFixed(2)),
        snapshotDocs: read.snapshotDocs,
        logOps: read.logOps,
        rssMiB: mib(child.rss),
        heapUsedMiB: mib(child.heapUsed),
        dataDirMiB: mib(diskBytes),
        files,
      },
      rssAfterLoadMiB: mib(rssLoaded),
    };

    const rows: [string, string][] = [
      ['documents', fmt(totalDocs)],
      ['insertOne, awaited one at a time', `${fmt(singleSerial)} /s`],
      ['insertOne, 64 concurrent', `${fmt(singleConcurrent)} /s`],
      ['insertMany of 1,000 (unique index)', `${fmt(batched)} docs/s`],
      [`range query at ${fmt(totalDocs)} docs, p50`, `${p50.toFixed(3)} ms`],
      [`range query at ${fmt(totalDocs)} docs, p99`, `${p99.toFixed(3)} ms`],
      [`recovery (start-up) at ${fmt(totalDocs)} docs`, `${(child.recoveryMs / 1000).toFixed(2)} s`],
      ['  of which reading snapshot + log', `${(read.readMs / 1000).toFixed(2)} s`],
      ['RSS after recovery', `${mib(child.rss)} MiB`],
      ['data directory on disk', `${mib(diskBytes)} MiB`],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log(`\n| ${'measure'.padEnd(w)} | result |\n|${'-'.repeat(w + 2)}|--------|`);
    for (const [k, v] of rows) console.log(`| ${k.padEnd(w)} | ${v} |`);
    console.log(
      `\n${result.machine.cpus} × ${result.machine.cpuModel}, ${result.machine.memoryGiB} GiB, ${result.machine.platform}, Node ${process.version}`,
    );

    const outDir = join(here, 'results');
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'store.json'), `${JSON.stringify(result, null, 2)}\n`);
    console.log(`written to ${join(outDir, 'store.json')}`);
  } finally {
    await client.close().catch(() => {});
    await store.close().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
