import { randomUUID } from 'node:crypto';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { MongoClient } from 'mongodb';
import type { Command } from '../../shared/schemas/commands.js';
import type { StoredEvent, Terms } from '../../shared/domain/index.js';
import type { FileUploadResponse } from '../../shared/schemas/http.js';
import { devToken, request, type Reply } from '../support/http.js';

export type ErrorBody = { ok: false; error: { code: string; message: string } };

export async function tokensFor(base: string, ...users: string[]): Promise<Record<string, string>> {
  const tokens: Record<string, string> = {};
  for (const user of users) tokens[user] = await devToken(base, user);
  return tokens;
}

export async function createRoom(base: string, token: string, freelancerId = 'bob'): Promise<string> {
  const reply = await request<{ room: { id: string } }>(base, 'POST', '/api/rooms', {
    token,
    body: { title: `Files ${randomUUID().slice(0, 8)}`, freelancerId },
  });
  if (reply.status !== 201) throw new Error(`room not created: ${JSON.stringify(reply.body)}`);
  return reply.body.room.id;
}

export function sendCommand(base: string, token: string, roomId: string, command: Command) {
  return request<{ ok: true; seq: number; events: StoredEvent[] } | ErrorBody>(
    base,
    'POST',
    `/api/rooms/${roomId}/commands`,
    {
      token,
      body: { clientId: randomUUID(), command },
    },
  );
}

export async function command(
  base: string,
  token: string,
  roomId: string,
  cmd: Command,
): Promise<StoredEvent[]> {
  const reply = await sendCommand(base, token, roomId, cmd);
  if (reply.status !== 201 || !reply.body.ok)
    throw new Error(`${cmd.type} failed: ${JSON.stringify(reply.body)}`);
  return reply.body.events;
}

export async function roomEvents(base: string, token: string, roomId: string): Promise<StoredEvent[]> {
  const reply = await request<{ events: StoredEvent[] }>(
    base,
    'GET',
    `/api/rooms/${roomId}/events?after=0&limit=500`,
    { token },
  );
  return reply.body.events;
}

/** A real multipart/form-data upload through fetch's FormData. */
export async function upload(
  base: string,
  token: string,
  roomId: string,
  content: Blob | Uint8Array | string,
  filename = 'file.bin',
  field = 'file',
): Promise<Reply<FileUploadResponse | ErrorBody>> {
  const form = new FormData();
  const blob =
    content instanceof Blob
      ? content
      : new Blob([typeof content === 'string' ? content : new Uint8Array(content)]);
  form.append(field, blob, filename);
  return postForm(base, token, roomId, form);
}

export async function postForm(
  base: string,
  token: string,
  roomId: string,
  form: FormData,
): Promise<Reply<FileUploadResponse | ErrorBody>> {
  const res = await fetch(`${base}/api/rooms/${roomId}/files`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  return {
    status: res.status,
    body: (await res.json()) as FileUploadResponse | ErrorBody,
    headers: res.headers,
  };
}

export async function uploaded(
  base: string,
  token: string,
  roomId: string,
  content: Uint8Array | string,
  filename?: string,
) {
  const reply = await upload(base, token, roomId, content, filename);
  if (reply.status !== 201 || !reply.body.ok) throw new Error(`upload failed: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

export async function download(
  base: string,
  token: string,
  fileId: string,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${base}/api/files/${fileId}`, {
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/**
 * A multipart upload written by hand on a raw HTTP request (chunked, no Content-Length), so a
 * test controls when bytes go out and can cut the connection mid-file.
 */
export function rawUpload(base: string, token: string, roomId: string, filename = 'raw.bin') {
  const boundary = `----workroom${randomUUID().replace(/-/g, '')}`;
  const url = new URL(`/api/rooms/${roomId}/files`, base);
  const req: ClientRequest = httpRequest(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
    },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.once('error', reject);
  });
  // A test that cuts the connection expects this to fail; it awaits it only when it wants to.
  response.catch(() => undefined);
  req.write(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  return {
    req,
    response,
    /** Writes file bytes, waiting for the socket to take them. */
    write: (bytes: Uint8Array) =>
      new Promise<void>((resolve, reject) => req.write(bytes, (err) => (err ? reject(err) : resolve()))),
    finish: () => {
      req.end(`\r\n--${boundary}--\r\n`);
      return response;
    },
  };
}

/** Counts the documents of the GridFS bucket `files` in the server's store. */
export async function openBucketCounter(storeUri: string) {
  const client = await new MongoClient(storeUri, { serverSelectionTimeoutMS: 5_000 }).connect();
  const db = client.db();
  return {
    async counts() {
      const [files, chunks] = await Promise.all([
        db.collection('files.files').countDocuments(),
        db.collection('files.chunks').countDocuments(),
      ]);
      return { files, chunks };
    },
    close: () => client.close(),
  };
}

export const FIXED_TERMS: Terms = {
  kind: 'fixed',
  currency: 'USD',
  milestones: [{ id: 'm1', title: 'Logo drafts', amount: 50_000 }],
};
