/**
 * File sharing over real HTTP with real multipart uploads against one server and its embedded
 * store: round trip by hash, display names, sniffed types, authorization both ways, byte ranges,
 * the `file.shared` broadcast, and file references in messages and milestone submissions.
 */
import { createHash, randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../shared/domain/index.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/socket-client.js';
import {
  command,
  createRoom,
  download,
  FIXED_TERMS,
  postForm,
  roomEvents,
  sendCommand,
  tokensFor,
  upload,
  uploaded,
  type ErrorBody,
} from './helpers.js';

let server: TestServer;
let base: string;
let tokens: Record<string, string>;
let roomId: string;

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_COMMANDS: '0' });
  base = server.url;
  tokens = await tokensFor(base, 'alice', 'bob', 'dave', 'mallory');
  roomId = await createRoom(base, tokens.alice!);
});

afterAll(async () => {
  await server?.stop();
});

describe('upload and download', () => {
  it('round-trips a few MiB of random bytes exactly, with the matching sha256 and a file.shared event', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 12_345);
    const reply = await upload(base, tokens.bob!, roomId, data, 'sketches.bin');
    expect(reply.status).toBe(201);
    if (!reply.body.ok) throw new Error(JSON.stringify(reply.body));
    const { file, event } = reply.body;
    expect(file).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      name: 'sketches.bin',
      size: data.length,
      contentType: 'application/octet-stream',
      sha256: sha256(data),
    });
    expect(event).toMatchObject({
      type: 'file.shared',
      actor: { id: 'bob', side: 'freelancer', role: 'freelancer' },
      data: {
        fileId: file.id,
        name: file.name,
        size: file.size,
        contentType: file.contentType,
        sha256: file.sha256,
      },
    });
    // The event is durable in the room's log.
    expect((await roomEvents(base, tokens.alice!, roomId)).find((e) => e.seq === event.seq)).toEqual(event);

    const back = await download(base, tokens.alice!, file.id);
    expect(back.status).toBe(200);
    expect(back.headers.get('content-length')).toBe(String(data.length));
    expect(back.headers.get('etag')).toBe(`"${file.sha256}"`);
    expect(back.headers.get('accept-ranges')).toBe('bytes');
    expect(back.bytes.length).toBe(data.length);
    expect(sha256(back.bytes)).toBe(file.sha256);
    expect(back.bytes.equals(data)).toBe(true);
  });

  it('broadcasts file.shared to the room like any other event', async () => {
    const socket: Socket = io(base, {
      auth: { token: tokens.alice },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const seen: StoredEvent[] = [];
      socket.on('room:event', (payload: { roomId: string; event: StoredEvent }) => {
        if (payload.roomId === roomId) seen.push(payload.event);
      });
      const joined = (await socket.timeout(10_000).emitWithAck('room:join', { roomId })) as { ok: boolean };
      expect(joined.ok).toBe(true);
      const { file } = await uploaded(base, tokens.bob!, roomId, 'live notes\n', 'notes.txt');
      await until(() => seen.some((e) => e.type === 'file.shared'), 10_000, 'the file.shared broadcast');
      expect(seen.find((e) => e.type === 'file.shared')!.data).toMatchObject({
        fileId: file.id,
        sha256: file.sha256,
      });
    } finally {
      socket.close();
    }
  });

  it('keeps only the last segment of path-like names, without control characters', async () => {
    const cases: Array<[string, string]> = [
      ['../../etc/passwd', 'passwd'],
      ['C:\\x\\y.txt', 'y.txt'],
      ['..\\..\\windows/system32\\evil.dll', 'evil.dll'],
      ['/abs/dir/', 'dir'],
      ['..', 'file'],
      ['line\nbreak\t.txt', 'linebreak.txt'],
      ['invoice\u202efdp.exe', 'invoicefdp.exe'],
      ['résumé.pdf', 'résumé.pdf'],
    ];
    for (const [sent, shown] of cases) {
      const reply = await upload(base, tokens.alice!, roomId, 'content', sent);
      expect(reply.status, sent).toBe(201);
      if (!reply.body.ok) throw new Error(JSON.stringify(reply.body));
      expect(reply.body.file.name, sent).toBe(shown);
      const back = await download(base, tokens.alice!, reply.body.file.id);
      const disposition = back.headers.get('content-disposition')!;
      expect(disposition.startsWith('attachment;')).toBe(true);
      expect(disposition).toContain(`filename*=UTF-8''${encodeURIComponent(shown)}`);
      expect(disposition).not.toMatch(/[/\\]/);
    }
    // A raw control character in the part header is a malformed request, not a crash.
    const raw = await upload(base, tokens.alice!, roomId, 'content', 'bell\u0007.txt');
    expect(raw.status).toBe(400);
    expect((raw.body as ErrorBody).error.code).toBe('INVALID');
  });

  it('caps very long names and keeps their extension', async () => {
    const reply = await upload(base, tokens.alice!, roomId, 'x', `${'a'.repeat(400)}.docx`);
    if (!reply.body.ok) throw new Error(JSON.stringify(reply.body));
    expect(reply.body.file.name).toHaveLength(255);
    expect(reply.body.file.name.endsWith('.docx')).toBe(true);
  });

  it('never serves an HTML upload as HTML: sniffed as plain text, attachment, nosniff, sandboxed', async () => {
    const html = '<!doctype html><html><body><script>alert(document.cookie)</script></body></html>';
    const form = new FormData();
    form.append('file', new Blob([html], { type: 'text/html' }), 'page.html');
    const reply = await postForm(base, tokens.alice!, roomId, form);
    if (!reply.body.ok) throw new Error(JSON.stringify(reply.body));
    expect(reply.body.file.contentType).toBe('text/plain; charset=utf-8');

    const back = await download(base, tokens.bob!, reply.body.file.id);
    expect(back.status).toBe(200);
    expect(back.headers.get('content-type')).not.toMatch(/html/i);
    expect(back.headers.get('content-disposition')).toMatch(/^attachment; filename="page\.html"/);
    expect(back.headers.get('x-content-type-options')).toBe('nosniff');
    expect(back.headers.get('content-security-policy')).toContain('sandbox');
    expect(back.bytes.toString()).toBe(html);
  });

  it('sniffs the type from the bytes and ignores the declared one', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), randomBytes(64)]);
    const form = new FormData();
    form.append('file', new Blob([png], { type: 'text/html' }), 'picture.html');
    const reply = await postForm(base, tokens.alice!, roomId, form);
    if (!reply.body.ok) throw new Error(JSON.stringify(reply.body));
    expect(reply.body.file.contentType).toBe('image/png');
    const pdf = await uploaded(base, tokens.alice!, roomId, '%PDF-1.7\n%\xff\xff\n1 0 obj', 'doc.exe');
    expect(pdf.file.contentType).toBe('application/pdf');
    expect((await download(base, tokens.alice!, pdf.file.id)).headers.get('content-type')).toBe(
      'application/pdf',
    );
  });

  it('refuses a request without a file, with a second file, or with the file under another field', async () => {
    const empty = new FormData();
    empty.append('note', 'no file here');
    const none = await postForm(base, tokens.alice!, roomId, empty);
    expect(none.status).toBe(400);
    expect((none.body as ErrorBody).error.code).toBe('INVALID');

    const two = new FormData();
    two.append('file', new Blob(['one']), 'one.txt');
    two.append('file', new Blob(['two']), 'two.txt');
    const twice = await postForm(base, tokens.alice!, roomId, two);
    expect(twice.status).toBe(400);
    expect((twice.body as ErrorBody).error.code).toBe('INVALID');

    const other = await upload(base, tokens.alice!, roomId, 'x', 'x.txt', 'attachment');
    expect(other.status).toBe(400);

    const json = await fetch(`${base}/api/rooms/${roomId}/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(400);
    // None of these shared anything.
    const shared = (await roomEvents(base, tokens.alice!, roomId)).filter((e) => e.type === 'file.shared');
    expect(shared.map((e) => (e.data as { name: string }).name)).not.toContain('one.txt');
    expect(shared.map((e) => (e.data as { name: string }).name)).not.toContain('two.txt');
  });
});

describe('who may upload and download', () => {
  it('refuses outsiders on upload, before the body is read, and on download with one answer for every id', async () => {
    const up = await upload(base, tokens.mallory!, roomId, randomBytes(200_000), 'intrusion.bin');
    expect(up.status).toBe(403);
    expect((up.body as ErrorBody).error.code).toBe('FORBIDDEN');

    const { file } = await uploaded(base, tokens.bob!, roomId, 'private deliverable', 'secret.txt');
    const existing = await download(base, tokens.mallory!, file.id);
    const missing = await download(base, tokens.mallory!, 'ffffffffffffffffffffffff');
    const garbage = await download(base, tokens.mallory!, 'not-a-file-id');
    for (const reply of [existing, missing, garbage]) {
      expect(reply.status).toBe(403);
      expect(reply.bytes.toString()).toBe(existing.bytes.toString());
    }
    expect(JSON.parse(existing.bytes.toString())).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    // A party who is not the uploader may download; an unauthenticated caller may not.
    expect((await download(base, tokens.alice!, file.id)).bytes.toString()).toBe('private deliverable');
    expect((await fetch(`${base}/api/files/${file.id}`)).status).toBe(401);
  });

  it('lets an interviewer of the room share and read files, but not one of another room', async () => {
    await command(base, tokens.alice!, roomId, { type: 'members.add', userIds: ['dave'] });
    const { file } = await uploaded(base, tokens.dave!, roomId, 'interview notes', 'notes.md');
    expect((await download(base, tokens.bob!, file.id)).status).toBe(200);
    const otherRoom = await createRoom(base, tokens.alice!, 'erin');
    const { file: other } = await uploaded(base, tokens.alice!, otherRoom, 'other room', 'other.txt');
    expect((await download(base, tokens.dave!, other.id)).status).toBe(403);
    expect((await download(base, tokens.bob!, other.id)).status).toBe(403);
  });
});

describe('rooms that no longer take files', () => {
  it('refuses an upload to an ended contract with CONFLICT, and its files stay downloadable', async () => {
    const contract = await createRoom(base, tokens.alice!, 'bob');
    await command(base, tokens.alice!, contract, { type: 'terms.propose', terms: FIXED_TERMS });
    await command(base, tokens.bob!, contract, { type: 'terms.accept', version: 1 });
    const { file } = await uploaded(base, tokens.bob!, contract, 'handover notes', 'handover.txt');
    await command(base, tokens.alice!, contract, { type: 'contract.end' });
    const reply = await upload(base, tokens.bob!, contract, 'too late', 'late.txt');
    expect(reply.status).toBe(409);
    expect((reply.body as ErrorBody).error.code).toBe('CONFLICT');
    expect(
      (await roomEvents(base, tokens.alice!, contract)).filter((e) => e.type === 'file.shared'),
    ).toHaveLength(1);
    expect((await download(base, tokens.alice!, file.id)).bytes.toString()).toBe('handover notes');
  });
});

describe('byte ranges', () => {
  // Larger than one GridFS chunk (255 KiB), so ranges cross chunk boundaries.
  const data = randomBytes(600 * 1024 + 7);
  let fileId: string;

  beforeAll(async () => {
    fileId = (await uploaded(base, tokens.alice!, roomId, data, 'video.raw')).file.id;
  });

  it('answers one range with 206, Content-Range and exactly those bytes', async () => {
    const cases: Array<[string, number, number]> = [
      ['bytes=0-0', 0, 0],
      ['bytes=1000-1999', 1000, 1999],
      ['bytes=261000-262500', 261_000, 262_500], // across the first chunk boundary (261120)
      ['bytes=614000-', 614_000, data.length - 1],
      ['bytes=-100', data.length - 100, data.length - 1],
      [`bytes=10-${data.length + 5000}`, 10, data.length - 1],
    ];
    for (const [range, start, end] of cases) {
      const reply = await download(base, tokens.bob!, fileId, { range });
      expect(reply.status, range).toBe(206);
      expect(reply.headers.get('content-range'), range).toBe(`bytes ${start}-${end}/${data.length}`);
      expect(reply.headers.get('content-length'), range).toBe(String(end - start + 1));
      expect(reply.bytes.equals(data.subarray(start, end + 1)), range).toBe(true);
    }
  });

  it('answers a range past the end with 416 and the size', async () => {
    const reply = await download(base, tokens.bob!, fileId, { range: `bytes=${data.length}-` });
    expect(reply.status).toBe(416);
    expect(reply.headers.get('content-range')).toBe(`bytes */${data.length}`);
  });

  it('sends the whole file for several ranges, a malformed one, or a stale If-Range', async () => {
    const variants: Array<Record<string, string>> = [
      { range: 'bytes=0-1,5-6' },
      { range: 'lines=1-2' },
      { range: 'bytes=9-3' },
      { range: 'bytes=0-9', 'if-range': '"an-older-version"' },
    ];
    for (const headers of variants) {
      const reply = await download(base, tokens.bob!, fileId, headers);
      expect(reply.status, JSON.stringify(headers)).toBe(200);
      expect(reply.bytes.length).toBe(data.length);
    }
  });

  it('revalidates by ETag', async () => {
    const first = await download(base, tokens.bob!, fileId);
    const again = await download(base, tokens.bob!, fileId, { 'if-none-match': first.headers.get('etag')! });
    expect(again.status).toBe(304);
    expect(again.bytes.length).toBe(0);
  });
});

describe('references to files', () => {
  it('accepts a room’s own files in messages and refuses files of another room or unknown ids', async () => {
    const { file } = await uploaded(base, tokens.bob!, roomId, 'attached', 'a.txt');
    const posted = await command(base, tokens.alice!, roomId, {
      type: 'message.post',
      text: 'see attached',
      fileIds: [file.id],
    });
    expect(posted[0]!.data).toMatchObject({ fileIds: [file.id] });

    const otherRoom = await createRoom(base, tokens.alice!, 'bob');
    for (const fileIds of [[file.id], ['ffffffffffffffffffffffff']]) {
      const refused = await sendCommand(base, tokens.alice!, otherRoom, {
        type: 'message.post',
        text: 'stolen',
        fileIds,
      });
      expect(refused.status).toBe(400);
      expect((refused.body as ErrorBody).error.code).toBe('INVALID');
    }
    expect((await roomEvents(base, tokens.alice!, otherRoom)).map((e) => e.type)).toEqual(['room.created']);
  });

  it('freezes a submitted deliverable by its sha256, and refuses another room’s file in a submission', async () => {
    const contract = await createRoom(base, tokens.alice!, 'bob');
    await command(base, tokens.alice!, contract, { type: 'terms.propose', terms: FIXED_TERMS });
    await command(base, tokens.bob!, contract, { type: 'terms.accept', version: 1 });
    await command(base, tokens.alice!, contract, { type: 'milestone.fund', milestoneId: 'm1' });

    const logo = randomBytes(50_000);
    const { file } = await uploaded(base, tokens.bob!, contract, logo, 'logo-final.png');
    const { file: foreign } = await uploaded(base, tokens.bob!, roomId, 'elsewhere', 'elsewhere.txt');

    const refused = await sendCommand(base, tokens.bob!, contract, {
      type: 'milestone.submit',
      milestoneId: 'm1',
      note: 'Final logo',
      fileIds: [file.id, foreign.id],
    });
    expect(refused.status).toBe(400);
    expect((refused.body as ErrorBody).error.code).toBe('INVALID');

    const submitted = await command(base, tokens.bob!, contract, {
      type: 'milestone.submit',
      milestoneId: 'm1',
      note: 'Final logo',
      fileIds: [file.id],
    });
    expect(submitted[0]).toMatchObject({
      type: 'milestone.submitted',
      data: { milestoneId: 'm1', files: [{ id: file.id, name: 'logo-final.png', sha256: sha256(logo) }] },
    });
    // What the client downloads is what the submission froze.
    const back = await download(base, tokens.alice!, file.id);
    expect(sha256(back.bytes)).toBe(
      (submitted[0]!.data as { files: Array<{ sha256: string }> }).files[0]!.sha256,
    );
  });
});
