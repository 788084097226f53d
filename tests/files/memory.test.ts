/**
 * Uploads stream: a 20 MiB upload must not raise the server's resident memory by anything like
 * 20 MiB. The server runs as its own process against the standalone embedded store (which keeps
 * its data in memory by design, so it is measured apart), and the test samples the server's
 * VmRSS from /proc while the upload runs. The bound is generous; the figure is printed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, spawnStore, tempDir, type ChildServer } from '../support/server.js';
import { createRoom, download, tokensFor, upload, uploaded } from './helpers.js';

const MiB = 1024 * 1024;
const canMeasure = process.platform === 'linux';

let store: ChildServer;
let server: ChildServer;
const data = tempDir('workroom-files-memory-');

beforeAll(async () => {
  if (!canMeasure) return;
  store = await spawnStore({ DB_PORT: '0', DATA_DIR: data.dir });
  server = await spawnServer({ PORT: '0', MONGODB_URI: store.url, MAX_UPLOAD_BYTES: String(64 * MiB) });
});

afterAll(async () => {
  await server?.stop();
  await store?.stop();
  data.remove();
});

/** Resident set size of a process, in bytes. */
function rss(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Uploads `size` bytes and returns the server's peak RSS growth while it ran. */
async function measuredUpload(base: string, token: string, roomId: string, pid: number, size: number) {
  const file = randomBytes(size);
  const baseline = rss(pid);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 5);
  let reply;
  try {
    reply = await upload(base, token, roomId, file, `large-${size}.bin`);
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, rss(pid));
  if (reply.status !== 201 || !reply.body.ok) throw new Error(JSON.stringify(reply.body));
  expect(reply.body.file.sha256).toBe(createHash('sha256').update(file).digest('hex'));
  const growth = peak - baseline;
  console.log(
    `upload memory: ${size / MiB} MiB upload; server RSS ${(baseline / MiB).toFixed(1)} MiB before, ` +
      `peak ${(peak / MiB).toFixed(1)} MiB during: growth ${(growth / MiB).toFixed(2)} MiB`,
  );
  return { growth, file, id: reply.body.file.id };
}

describe.skipIf(!canMeasure)('upload memory', () => {
  it('raises the server RSS by far less than the size of the upload, and not in proportion to it', async () => {
    const base = server.url;
    const pid = server.process.pid!;
    const tokens = await tokensFor(base, 'alice', 'bob');
    const roomId = await createRoom(base, tokens.alice!);
    // Warm every code path (multer, busboy, GridFS, hashing) so the measurement sees only the upload.
    for (let i = 0; i < 3; i++) await uploaded(base, tokens.bob!, roomId, randomBytes(2 * MiB), `warm-${i}.bin`);
    await sleep(500);

    const first = await measuredUpload(base, tokens.bob!, roomId, pid, 20 * MiB);
    expect(first.growth).toBeLessThan(16 * MiB);
    // Twice the size again: a streaming server's memory does not follow the file size.
    await sleep(300);
    const larger = await measuredUpload(base, tokens.bob!, roomId, pid, 40 * MiB);
    expect(larger.growth).toBeLessThan(16 * MiB);

    // And the 20 MiB stream back out intact.
    const back = await download(base, tokens.alice!, first.id);
    expect(back.bytes.equals(first.file)).toBe(true);
  });
});
