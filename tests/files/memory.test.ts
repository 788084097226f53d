/**
 * Uploads stream: a 20 MiB upload must not raise the server's resident memory by anything like
 * 20 MiB. The server runs as its own process against the standalone embedded store (which keeps
 * its data in memory by design, so it is measured apart), and the test samples the server's
 * VmRSS from /proc. The first large upload of a fresh process also pays for V8 and malloc
 * settling (freed chunk buffers are collected lazily), so the server is first warmed with the
 * same number of bytes in small files; the 20 MiB file must then cost next to nothing more.
 * The bound is generous; the figures are printed.
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

describe.skipIf(!canMeasure)('upload memory', () => {
  it('costs the server no more memory for one 20 MiB file than for the same bytes in small files', async () => {
    const base = server.url;
    const pid = server.process.pid!;
    const tokens = await tokensFor(base, 'alice', 'bob');
    const roomId = await createRoom(base, tokens.alice!);

    let peak = rss(pid);
    const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 5);
    try {
      // Warm up with as many bytes as the measured upload, in 2 MiB files: every code path is
      // loaded and the heap and allocator reach the working set that uploading needs at all.
      for (let i = 0; i < 12; i++)
        await uploaded(base, tokens.bob!, roomId, randomBytes(2 * MiB), `warm-${i}.bin`);
      await sleep(300);
      const warmPeak = Math.max(peak, rss(pid));
      const before = rss(pid);
      peak = before;

      const file = randomBytes(20 * MiB);
      const reply = await upload(base, tokens.bob!, roomId, file, 'large.bin');
      const uploadPeak = Math.max(peak, rss(pid));
      if (reply.status !== 201 || !reply.body.ok) throw new Error(JSON.stringify(reply.body));
      expect(reply.body.file.sha256).toBe(createHash('sha256').update(file).digest('hex'));

      const growth = uploadPeak - before;
      const overWarm = uploadPeak - Math.max(before, warmPeak);
      console.log(
        `upload memory: server RSS ${(before / MiB).toFixed(1)} MiB before the 20 MiB upload, peak ` +
          `${(uploadPeak / MiB).toFixed(1)} MiB during it: +${(growth / MiB).toFixed(2)} MiB ` +
          `(+${(Math.max(0, overWarm) / MiB).toFixed(2)} MiB over the small-file warm-up peak of ${(warmPeak / MiB).toFixed(1)} MiB)`,
      );
      // Buffering the file would need 20 MiB at once on top of the warm-up's working set.
      expect(overWarm).toBeLessThan(16 * MiB);
      expect(growth).toBeLessThan(16 * MiB);

      // And the 20 MiB streams back out intact.
      const back = await download(base, tokens.alice!, reply.body.file.id);
      expect(back.bytes.equals(file)).toBe(true);
    } finally {
      clearInterval(sampler);
    }
  });
});
