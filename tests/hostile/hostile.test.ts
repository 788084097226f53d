import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ErrorResponseSchema } from '../../shared/schemas/errors.js';
import { request } from '../support/http.js';
import { spawnServer, tempDir, type ChildServer } from '../support/server.js';
import { connect, until, type WorkroomSocket } from '../support/socket-client.js';

/**
 * Hostile input against a server in its own process: random and malformed socket payloads,
 * broken Engine.IO frames, token attacks and foreign origins. The process must stay up, keep its
 * memory bounded, answer every request in the protocol's error shape, and change nothing.
 */
const SECRET = 'hostile-suite-secret-long-enough-for-production-use';
const ISSUER = 'platform.example';
const AUDIENCE = 'workroom';
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PUBLIC_PEM = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const PRIVATE_PEM = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** A token as the platform would sign it, with the claims and options of one attack changed. */
function sign(claims: Record<string, unknown>, options: jwt.SignOptions = {}, key: string = SECRET): string {
  const defaults: jwt.SignOptions = { algorithm: 'HS256', issuer: ISSUER, audience: AUDIENCE };
  if (!('sub' in claims)) defaults.subject = 'alice';
  if (!('exp' in claims)) defaults.expiresIn = '1h';
  return jwt.sign({ name: 'Alice Client', ...claims }, key, { ...defaults, ...options });
}

/** Speaks the Engine.IO and Socket.IO handshakes on a raw WebSocket; resolves once connected. */
function handshake(ws: WebSocket, token: string): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const text = data.toString();
      if (text.startsWith('0')) ws.send(`40${JSON.stringify({ token })}`);
      else if (text.startsWith('40')) {
        ws.off('message', onMessage);
        resolve();
      }
    };
    ws.on('message', onMessage);
  });
}

/**
 * A Socket.IO session spoken by hand over a raw WebSocket, for frames no well-behaved client
 * would send. Resolves with the server's reply to `frame` (or null if it closed the connection).
 */
async function rawExchange(wsUrl: string, token: string, frame: string): Promise<string | null> {
  const ws = new WebSocket(wsUrl);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve(null);
    }, 5_000);
    void handshake(ws, token).then(() => ws.send(frame));
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('43')) {
        clearTimeout(timer);
        ws.close();
        resolve(text);
      }
    });
    ws.on('close', () => {
      clearTimeout(timer);
      resolve(null);
    });
    ws.on('error', () => undefined);
  });
}

/** A token with `alg: none`, which must never be accepted. */
function unsignedToken(): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub: 'alice', name: 'A', exp: now + 3600, iss: ISSUER, aud: AUDIENCE })}.`;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

function isErrorShape(reply: unknown): boolean {
  return ErrorResponseSchema.safeParse(reply).success;
}

describe('hostile input', () => {
  const data = tempDir();
  const rsData = tempDir();
  let server: ChildServer;
  let rsServer: ChildServer;
  let token: string;
  let roomId: string;
  let socket: WorkroomSocket;

  const seq = async () =>
    (await request<{ room: { seq: number } }>(server.url, 'GET', `/api/rooms/${roomId}`, { token })).body.room
      .seq;
  const wsUrl = () => `${server.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`;

  /**
   * A raw client that sends `frames` and reads nothing for 3 s: how much the server grew meanwhile,
   * and, once it reads, the payloads of the replies to every frame.
   */
  async function sendWithoutReading(frames: string[], timeoutMs: number) {
    const ws = new WebSocket(wsUrl());
    const replies: string[] = [];
    ws.on('message', (data) => {
      const frame = data.toString();
      if (frame.startsWith('43')) replies.push(frame.slice(frame.indexOf('[')));
    });
    await handshake(ws, token);
    const rssBefore = rssMiB(server.process.pid!);
    ws.pause();
    for (const frame of frames) ws.send(frame);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const grownMiB = rssMiB(server.process.pid!) - rssBefore;
    ws.resume();
    await until(() => replies.length === frames.length, timeoutMs, 'every request answered once read');
    ws.close();
    return { grownMiB, replies };
  }

  beforeAll(async () => {
    [server, rsServer] = await Promise.all([
      spawnServer({
        PORT: '0',
        DATA_DIR: data.dir,
        JWT_SECRET: SECRET,
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
        RATE_LIMIT_COMMANDS: '0',
        RATE_LIMIT_EVENTS: '0',
      }),
      spawnServer({ PORT: '0', DATA_DIR: rsData.dir, JWT_PUBLIC_KEY: PUBLIC_PEM }),
    ]);
    token = sign({});
    const room = await request<{ room: { id: string } }>(server.url, 'POST', '/api/rooms', {
      token,
      body: { title: 'Under attack', freelancerId: 'bob' },
    });
    roomId = room.body.room.id;
    socket = await connect(server.url, token);
    await socket.emitWithAck('room:join', { roomId });
  }, 60_000);

  afterAll(async () => {
    socket?.close();
    await Promise.all([server?.stop(), rsServer?.stop()]);
    data.remove();
    rsData.remove();
  });

  it('answers random payloads on every event with the error shape and appends nothing', async () => {
    const before = await seq();
    const rssBefore = rssMiB(server.process.pid!);
    const hostileKey = fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      '$gt',
      '$where',
      'roomId',
      'command',
      'type',
    );
    const hostileValue = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue(),
        fc.constant({ $gt: '' }),
        fc.constant({ $ne: null }),
        fc.string({ maxLength: 300 }),
        fc.dictionary(hostileKey, tie('value'), { maxKeys: 4 }),
        fc.array(tie('value'), { maxLength: 4 }),
      ),
    })).value;
    const payload = fc.oneof(
      hostileValue,
      fc.record({
        roomId: fc.oneof(fc.constant(roomId), hostileValue),
        command: hostileValue,
        clientId: fc.oneof(fc.uuid(), hostileValue),
      }),
      fc.record({
        roomId: fc.constant(roomId),
        clientId: fc.uuid(),
        command: fc.record({
          type: fc.constant('message.post'),
          text: hostileValue.filter((v) => typeof v !== 'string'),
        }),
      }),
    );
    const events = [
      'room:join',
      'room:leave',
      'room:sync',
      'room:command',
      'room:read',
      'room:typing',
      'room:evil',
      'constructor',
      '__proto__',
    ];
    const raw = socket as unknown as {
      timeout: (ms: number) => { emitWithAck: (e: string, p: unknown) => Promise<unknown> };
    };
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...events), payload, async (event, body) => {
        const reply = (await raw.timeout(5_000).emitWithAck(event, body)) as { ok?: boolean };
        answered++;
        // A random payload may happen to be a valid leave/read/typing of this room; nothing else is.
        if (reply.ok === true)
          return ['room:leave', 'room:read', 'room:typing', 'room:join', 'room:sync'].includes(event);
        return isErrorShape(reply);
      }),
      { numRuns: 1_500 },
    );
    expect(answered).toBe(1_500);
    expect(await seq()).toBe(before);
    expect(rssMiB(server.process.pid!) - rssBefore).toBeLessThan(96);
  });

  it('refuses deep nesting and huge strings without falling over', async () => {
    const before = await seq();
    const deep = `421["room:command",{"roomId":"${roomId}","clientId":"${randomUUID()}","command":${'['.repeat(5_000)}${']'.repeat(5_000)}}]`;
    const deepObject = `422["room:command",{"roomId":"${roomId}","clientId":"${randomUUID()}","command":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}]`;
    for (const frame of [deep, deepObject]) {
      const reply = await rawExchange(wsUrl(), token, frame);
      expect(reply === null || reply.includes('"INVALID"')).toBe(true);
    }
    const replies = [
      await socket.emitWithAck('room:command', {
        roomId,
        clientId: randomUUID(),
        command: { type: 'message.post', text: 'y'.repeat(200_000) },
      }),
      await socket.emitWithAck('room:join', { roomId: 'z'.repeat(100_000) }),
    ];
    for (const reply of replies) expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID' } });
    expect(await seq()).toBe(before);
  });

  it('survives malformed Engine.IO and Socket.IO frames', async () => {
    const frames: Array<string | Buffer> = [
      'garbage',
      '4',
      '42[',
      '42["room:command",{"roomId":',
      '40{"token":{"$ne":null}}',
      '0{{{{',
      '6',
      '451-["room:command",{"_placeholder":true,"num":99}]',
      Buffer.from([0xff, 0x00, 0x13, 0x37]),
      'x'.repeat(300_000),
    ];
    for (const frame of frames) {
      const ws = new WebSocket(wsUrl());
      await new Promise<void>((resolve) => {
        ws.once('open', () => {
          ws.send(frame);
          setTimeout(() => {
            ws.terminate();
            resolve();
          }, 100);
        });
        ws.once('error', () => resolve());
      });
    }
    expect(server.process.exitCode).toBeNull();
    expect((await request(server.url, 'GET', '/healthz')).status).toBe(200);
    const fresh = await connect(server.url, token);
    expect((await fresh.emitWithAck('room:sync', { roomId, since: 0 })).ok).toBe(true);
    fresh.close();
  });

  it('does not hold the replies of a client that asks for catch-ups and reads none of them', async () => {
    // A room whose catch-up is about 1 MB: asked for 200 times, that would be 200 MB to hold.
    const created = await request<{ room: { id: string } }>(server.url, 'POST', '/api/rooms', {
      token,
      body: { title: 'Long history', freelancerId: 'bob' },
    });
    const longRoom = created.body.room.id;
    const text = 'h'.repeat(10_000);
    for (let i = 0; i < 100; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, () =>
          socket.emitWithAck('room:command', {
            roomId: longRoom,
            clientId: randomUUID(),
            command: { type: 'message.post', text },
          }),
        ),
      );
    }
    const history = (
      await request<{ room: { seq: number } }>(server.url, 'GET', `/api/rooms/${longRoom}`, { token })
    ).body.room.seq;
    const asked = Array.from(
      { length: 200 },
      (_, i) => `42${i}["room:sync",${JSON.stringify({ roomId: longRoom, since: 0 })}]`,
    );
    const { grownMiB, replies } = await sendWithoutReading(asked, 20_000);
    expect(grownMiB).toBeLessThan(64);
    // Once it reads, every request is answered: a full catch-up, or RATE_LIMITED for those past
    // the number a connection may have waiting.
    const bodies = replies.map((r) => (JSON.parse(r) as [unknown])[0]);
    const served = bodies.filter((b) => (b as { ok?: boolean }).ok === true) as Array<{ events: unknown[] }>;
    expect(served.length).toBeGreaterThan(0);
    for (const body of served) expect(body.events).toHaveLength(history);
    for (const body of bodies.filter((b) => (b as { ok?: boolean }).ok !== true)) {
      expect(isErrorShape(body)).toBe(true);
      expect(body).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    }
  }, 60_000);

  it('does not hold the replies of a client that floods small requests and reads none of them', async () => {
    // A dozen bytes each, each answered with an error: left to pile up on the server, the
    // replies to these would take it over 200 MB.
    const asked = Array.from({ length: 500_000 }, (_, i) => `42${i}["x"]`);
    const { grownMiB } = await sendWithoutReading(asked, 60_000);
    expect(grownMiB).toBeLessThan(64);
  }, 90_000);

  it('refuses token attacks on HTTP and on the socket handshake', async () => {
    const now = Math.floor(Date.now() / 1000);
    const attacks: Array<[string, string, string]> = [
      ['alg none', server.url, unsignedToken()],
      ['wrong key', server.url, sign({}, {}, 'another-secret-entirely-of-good-length!!')],
      ['expired', server.url, sign({ exp: now - 60 })],
      [
        'no exp',
        server.url,
        jwt.sign({ sub: 'alice', iss: ISSUER, aud: AUDIENCE }, SECRET, { algorithm: 'HS256' }),
      ],
      ['wrong issuer', server.url, sign({}, { issuer: 'someone-else' })],
      ['wrong audience', server.url, sign({}, { audience: 'another-app' })],
      ['operator sub', server.url, sign({ sub: { $ne: null } })],
      // HS/RS confusion: an HS256 token keyed with the server's RSA public key.
      [
        'HS256 signed with the RS256 public key',
        rsServer.url,
        jwt.sign({ sub: 'alice', name: 'A' }, PUBLIC_PEM, { algorithm: 'HS256', expiresIn: '1h' }),
      ],
    ];
    for (const [name, url, bad] of attacks) {
      const reply = await request(url, 'GET', '/api/rooms', { token: bad });
      expect(reply.status, name).toBe(401);
      expect(reply.body, name).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
      await expect(connect(url, bad), name).rejects.toThrow('UNAUTHENTICATED');
    }
    // The RS256 server accepts a properly signed RS256 token.
    const good = jwt.sign({ name: 'Alice' }, PRIVATE_PEM, {
      algorithm: 'RS256',
      subject: 'alice',
      expiresIn: '1h',
    });
    expect((await request(rsServer.url, 'GET', '/api/rooms', { token: good })).status).toBe(200);
  });

  it('refuses foreign origins: no socket, no CORS grant', async () => {
    await expect(
      connect(server.url, token, { extraHeaders: { origin: 'https://attacker.example' } }),
    ).rejects.toThrow();
    const preflight = await request(server.url, 'OPTIONS', '/api/rooms', {
      headers: { origin: 'https://attacker.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(server.process.exitCode).toBeNull();
  });
});
