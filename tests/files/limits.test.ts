/**
 * Upload limits and failures against a server with a small MAX_UPLOAD_BYTES: past the limit the
 * answer is 413 with nothing stored and no event, and a client that disconnects mid-file leaves
 * no GridFS chunks behind. The bucket is inspected through a driver connected to the same store.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/socket-client.js';
import {
  createRoom,
  openBucketCounter,
  rawUpload,
  roomEvents,
  tokensFor,
  upload,
  type ErrorBody,
} from './helpers.js';

const LIMIT = 1024 * 1024;

let server: TestServer;
let base: string;
let tokens: Record<string, string>;
let roomId: string;
let bucket: Awaited<ReturnType<typeof openBucketCounter>>;

beforeAll(async () => {
  server = await startTestServer({ MAX_UPLOAD_BYTES: String(LIMIT) });
  base = server.url;
  tokens = await tokensFor(base, 'alice', 'bob');
  roomId = await createRoom(base, tokens.alice!);
  bucket = await openBucketCounter(server.storeUri);
});

afterAll(async () => {
  await bucket?.close();
  await server?.stop();
});

const fileShares = async () =>
  (await roomEvents(base, tokens.alice!, roomId)).filter((e) => e.type === 'file.shared').length;

describe('upload limits', () => {
  it('accepts a file of exactly MAX_UPLOAD_BYTES', async () => {
    const reply = await upload(base, tokens.bob!, roomId, randomBytes(LIMIT), 'exact.bin');
    expect(reply.status).toBe(201);
    if (!reply.body.ok) throw new Error(JSON.stringify(reply.body));
    expect(reply.body.file.size).toBe(LIMIT);
    expect(await bucket.counts()).toEqual({ files: 1, chunks: Math.ceil(LIMIT / (255 * 1024)) });
  });

  it('streams a chunked upload until it passes the limit, then answers 413 and keeps nothing', async () => {
    const before = await bucket.counts();
    const shares = await fileShares();
    // No Content-Length: the server only learns the size by streaming it into GridFS, so chunks
    // are written before the limit is hit and must be deleted again.
    const raw = rawUpload(base, tokens.bob!, roomId, 'huge.bin');
    for (let i = 0; i < 12; i++) await raw.write(randomBytes(256 * 1024));
    const reply = await raw.finish();
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body)).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
    expect(await bucket.counts()).toEqual(before);
    expect(await fileShares()).toBe(shares);
  });

  it('refuses a declared Content-Length past the limit at once with 413', async () => {
    const before = await bucket.counts();
    const shares = await fileShares();
    // Large enough that the client is still sending when the answer comes: it must read the 413.
    const reply = await upload(base, tokens.bob!, roomId, randomBytes(16 * LIMIT), 'too-big.bin');
    expect(reply.status).toBe(413);
    expect((reply.body as ErrorBody).error.code).toBe('TOO_LARGE');
    // One byte over, within the multipart envelope allowance: caught while streaming.
    const over = await upload(base, tokens.bob!, roomId, randomBytes(LIMIT + 1), 'one-over.bin');
    expect(over.status).toBe(413);
    expect(await bucket.counts()).toEqual(before);
    expect(await fileShares()).toBe(shares);
  });

  it('refuses an outsider before storing a byte', async () => {
    const before = await bucket.counts();
    const mallory = (await tokensFor(base, 'mallory')).mallory!;
    const reply = await upload(base, mallory, roomId, randomBytes(LIMIT), 'intrusion.bin');
    expect(reply.status).toBe(403);
    expect((reply.body as ErrorBody).error.code).toBe('FORBIDDEN');
    expect(await bucket.counts()).toEqual(before);
  });

  it('removes every chunk of an upload whose client disconnects mid-file', async () => {
    const before = await bucket.counts();
    const shares = await fileShares();
    const raw = rawUpload(base, tokens.bob!, roomId, 'interrupted.bin');
    // Half the limit: several GridFS chunks are written while the request is still open.
    for (let i = 0; i < 2; i++) await raw.write(randomBytes(256 * 1024));
    await until(
      async () => (await bucket.counts()).chunks > before.chunks,
      10_000,
      'chunks of the unfinished upload',
    );
    raw.req.destroy();
    await until(
      async () => {
        const now = await bucket.counts();
        return now.chunks === before.chunks && now.files === before.files;
      },
      10_000,
      'the unfinished upload to be removed',
    );
    // And it stays clean (no write that was in flight lands afterwards); nothing was shared.
    await new Promise((r) => setTimeout(r, 300));
    expect(await bucket.counts()).toEqual(before);
    expect(await fileShares()).toBe(shares);
    // The server is fine afterwards.
    expect((await upload(base, tokens.bob!, roomId, 'after', 'after.txt')).status).toBe(201);
  });
});
