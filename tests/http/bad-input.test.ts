/**
 * Bad input of every kind over real HTTP — missing fields, wrong types, unknown keys, operator
 * objects, `__proto__` keys, malformed JSON, oversized bodies, bad query parameters, and bad
 * tokens (alg none, a wrong key, expired, no exp, HS256 against an RS256 server, wrong iss/aud) —
 * each answers the documented code in the error shape, and nothing changes: the room's seq and
 * the room list are the same before and after.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_STATUS, type ErrorCode, type ErrorResponse } from '../../shared/schemas/errors.js';
import { request, type Reply } from '../support/http.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  command,
  createRoom,
  expectError,
  FIXED_TERMS,
  seededTokens,
  type EventsReply,
  type RoomReply,
  type RoomsReply,
  type Tokens,
} from './helpers.js';

const SECRET = 'bad-input-suite-secret-of-enough-length-0123456789';

let server: TestServer;
let base: string;
let tokens: Tokens;
let roomId: string;

beforeAll(async () => {
  // Each case reads the room and the lists before and after: hundreds of requests a second from
  // one user, past the per-user allowances (tested in tests/socket/limits.test.ts).
  server = await startTestServer({ JWT_SECRET: SECRET, RATE_LIMIT_COMMANDS: '0', RATE_LIMIT_EVENTS: '0' });
  base = server.url;
  tokens = await seededTokens(base);
  roomId = (await createRoom(base, tokens.alice, { title: 'Bad input target', freelancerId: 'bob' })).id;
  await command(base, tokens.bob, roomId, { type: 'message.post', text: 'hello' });
});
afterAll(async () => {
  await server?.stop();
});

interface Observed {
  seq: number;
  events: number;
  aliceRooms: Array<{ id: string; seq: number }>;
  bobRooms: Array<{ id: string; seq: number }>;
}

/** What a user would notice changing: the room's seq and history, and the room lists. */
async function observe(url = base, t: Tokens = tokens, id = roomId): Promise<Observed> {
  const room = await request<RoomReply>(url, 'GET', `/api/rooms/${id}`, { token: t.alice });
  const events = await request<EventsReply>(url, 'GET', `/api/rooms/${id}/events`, { token: t.alice });
  const list = async (token: string) =>
    (await request<RoomsReply>(url, 'GET', '/api/rooms', { token })).body.rooms.map((r) => ({
      id: r.id,
      seq: r.seq,
    }));
  return {
    seq: room.body.room.seq,
    events: events.body.events.length,
    aliceRooms: await list(t.alice),
    bobRooms: await list(t.bob),
  };
}

/** Sends a bad request; asserts the code, the error shape, and that nothing changed. */
async function refused(code: ErrorCode, send: () => Promise<Reply<unknown>>): Promise<ErrorResponse> {
  const before = await observe();
  const reply = await send();
  const body = expectError(reply, code, ERROR_STATUS[code]);
  expect(Object.keys(body)).toEqual(['ok', 'error']);
  if (code === 'INVALID' && body.error.details !== undefined)
    expect(Array.isArray(body.error.details)).toBe(true);
  expect(await observe()).toEqual(before);
  return body;
}

const post =
  (path: string, body: unknown, token = tokens.alice) =>
  () =>
    request(base, 'POST', path, { token, body });
const raw =
  (path: string, rawBody: string, token = tokens.alice, headers: Record<string, string> = {}) =>
  () =>
    request(base, 'POST', path, { token, rawBody, headers });
const cmd = (commandBody: unknown, clientId: unknown = randomUUID(), token = tokens.bob) =>
  post(`/api/rooms/${roomId}/commands`, { clientId, command: commandBody }, token);

describe('POST /api/rooms', () => {
  const good = { title: 'A room', freelancerId: 'bob' };
  it.each([
    ['missing title', { freelancerId: 'bob' }],
    ['missing freelancerId', { title: 'A room' }],
    ['empty body', {}],
    ['title is a number', { ...good, title: 42 }],
    ['title is blank', { ...good, title: '   ' }],
    ['title too long', { ...good, title: 'x'.repeat(201) }],
    ['freelancerId is an array', { ...good, freelancerId: ['bob'] }],
    ['interviewerIds is a string', { ...good, interviewerIds: 'dave' }],
    ['duplicate interviewers', { ...good, interviewerIds: ['dave', 'dave'] }],
    ['unknown key', { ...good, admin: true }],
    ['operator object as freelancerId', { ...good, freelancerId: { $gt: '' } }],
    ['operator object as title', { ...good, title: { $gt: '' } }],
    ['operator object as jobId', { ...good, jobId: { $ne: null } }],
    ['operator in an id string', { ...good, freelancerId: '$where' }],
    ['body is an array', [good]],
  ])('%s → INVALID', async (_name, body) => {
    await refused('INVALID', post('/api/rooms', body));
  });

  it('a __proto__ key is refused and pollutes nothing', async () => {
    await refused(
      'INVALID',
      raw('/api/rooms', '{"title":"A room","freelancerId":"bob","__proto__":{"polluted":true}}'),
    );
    await refused(
      'INVALID',
      raw(
        '/api/rooms',
        '{"title":"A room","freelancerId":"bob","constructor":{"prototype":{"polluted":true}}}',
      ),
    );
    // The server runs in this process: its prototypes are ours.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['malformed JSON', '{"title": "A room", "freelancerId": '],
    ['trailing garbage', '{"title":"A room","freelancerId":"bob"} x'],
    ['a bare string', '"just a string"'],
    ['null', 'null'],
  ])('%s → INVALID', async (_name, body) => {
    await refused('INVALID', raw('/api/rooms', body));
  });

  it('a body that is not JSON → INVALID', async () => {
    await refused(
      'INVALID',
      raw('/api/rooms', 'title=A+room&freelancerId=bob', tokens.alice, {
        'content-type': 'application/x-www-form-urlencoded',
      }),
    );
    await refused('INVALID', raw('/api/rooms', 'A room', tokens.alice, { 'content-type': 'text/plain' }));
  });

  it('a body over 256 KB → 413 TOO_LARGE', async () => {
    await refused('TOO_LARGE', post('/api/rooms', { ...good, title: 'x'.repeat(300 * 1024) }));
    await refused('TOO_LARGE', cmd({ type: 'message.post', text: 'y'.repeat(300 * 1024) }));
  });
});

describe('POST /api/rooms/:id/commands', () => {
  it.each([
    ['no clientId', { command: { type: 'message.post', text: 'hi' } }],
    ['no command', { clientId: randomUUID() }],
    ['clientId not a uuid', { clientId: 'abc', command: { type: 'message.post', text: 'hi' } }],
    ['clientId an operator object', { clientId: { $gt: '' }, command: { type: 'message.post', text: 'hi' } }],
    [
      'unknown key beside the command',
      { clientId: randomUUID(), command: { type: 'message.post', text: 'hi' }, roomId: 'x' },
    ],
  ])('%s → INVALID', async (_name, body) => {
    await refused('INVALID', post(`/api/rooms/${roomId}/commands`, body, tokens.bob));
  });

  it.each([
    ['unknown type', { type: 'room.create', title: 'x', clientId: 'bob', freelancerId: 'bob' }],
    [
      'internal command',
      {
        type: 'file.share',
        fileId: 'f',
        name: 'n',
        size: 1,
        contentType: 'text/plain',
        sha256: 'a'.repeat(64),
      },
    ],
    ['missing text', { type: 'message.post' }],
    ['text is a number', { type: 'message.post', text: 5 }],
    ['text is blank', { type: 'message.post', text: ' \n ' }],
    ['text over 10,000 characters', { type: 'message.post', text: 'z'.repeat(10_001) }],
    ['text an operator object', { type: 'message.post', text: { $gt: '' } }],
    ['unknown key in the command', { type: 'message.post', text: 'hi', pinned: true }],
    ['replyTo negative', { type: 'message.post', text: 'hi', replyTo: -1 }],
    ['replyTo a string', { type: 'message.post', text: 'hi', replyTo: '2' }],
    ['type missing', { text: 'hi' }],
    ['milestoneId an operator object', { type: 'milestone.fund', milestoneId: { $ne: 'x' } }],
    [
      'money as a float',
      {
        type: 'terms.propose',
        terms: { ...FIXED_TERMS, milestones: [{ id: 'm1', title: 't', amount: 10.5 }] },
      },
    ],
    [
      'negative money',
      {
        type: 'terms.propose',
        terms: { ...FIXED_TERMS, milestones: [{ id: 'm1', title: 't', amount: -100 }] },
      },
    ],
    ['lowercase currency', { type: 'terms.propose', terms: { ...FIXED_TERMS, currency: 'eur' } }],
    ['hourly fields on fixed terms', { type: 'terms.propose', terms: { ...FIXED_TERMS, hourlyRate: 5000 } }],
    ['fixed terms without milestones', { type: 'terms.propose', terms: { kind: 'fixed', currency: 'EUR' } }],
    [
      'duplicate milestone ids',
      {
        type: 'terms.propose',
        terms: {
          kind: 'fixed',
          currency: 'EUR',
          milestones: [
            { id: 'a', title: 't', amount: 1 },
            { id: 'a', title: 'u', amount: 2 },
          ],
        },
      },
    ],
    [
      'rating out of range',
      { type: 'feedback.submit', public: { rating: 6, comment: '' }, private: { score: 1 } },
    ],
    ['members.add with no users', { type: 'members.add', userIds: [] }],
  ])('%s → INVALID', async (_name, body) => {
    await refused('INVALID', cmd(body));
  });

  it('a __proto__ key inside a command is refused', async () => {
    const body = `{"clientId":"${randomUUID()}","command":{"type":"message.post","text":"hi","__proto__":{"polluted":true}}}`;
    await refused('INVALID', raw(`/api/rooms/${roomId}/commands`, body, tokens.bob));
    const nested = `{"clientId":"${randomUUID()}","command":{"type":"terms.propose","terms":{"kind":"stipend","currency":"EUR","weeklyAmount":100,"__proto__":{"x":1}}}}`;
    await refused('INVALID', raw(`/api/rooms/${roomId}/commands`, nested, tokens.alice));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('malformed JSON → INVALID', async () => {
    await refused('INVALID', raw(`/api/rooms/${roomId}/commands`, '{"clientId":', tokens.bob));
  });

  it('a room id that is too long → INVALID; an operator-looking room id finds no room', async () => {
    await refused(
      'INVALID',
      post(`/api/rooms/${'r'.repeat(101)}/commands`, {
        clientId: randomUUID(),
        command: { type: 'message.post', text: 'hi' },
      }),
    );
    const encoded = encodeURIComponent('{"$gt":""}');
    const reply = await request<ErrorResponse>(base, 'GET', `/api/rooms/${encoded}`, { token: tokens.alice });
    expect([403, 404]).toContain(reply.status);
    expect(JSON.stringify(reply.body)).not.toContain('Bad input target');
  });

  it('a command the state does not allow → CONFLICT; a missing milestone → NOT_FOUND', async () => {
    await refused('CONFLICT', cmd({ type: 'milestone.fund', milestoneId: 'm1' }, randomUUID(), tokens.alice));
    await refused('CONFLICT', cmd({ type: 'terms.accept', version: 1 }));
    await refused(
      'CONFLICT',
      cmd({ type: 'feedback.submit', public: { rating: 5, comment: '' }, private: { score: 1 } }),
    );
    await refused('NOT_FOUND', cmd({ type: 'message.edit', seq: 999, text: 'x' }));
  });
});

describe('query parameters of GET /api/rooms/:id/events', () => {
  it.each([
    'after=-1',
    'after=abc',
    'after=1.5',
    'after=',
    'limit=0',
    'limit=501',
    'limit=1e2',
    'after=1&after=2',
    'after[$gt]=0',
    'limit[$ne]=1',
    'unknown=1',
    `after=${'9'.repeat(17)}`,
  ])('?%s → INVALID', async (query) => {
    await refused('INVALID', () =>
      request(base, 'GET', `/api/rooms/${roomId}/events?${query}`, { token: tokens.alice }),
    );
  });
});

describe('POST /api/dev/token', () => {
  it.each([
    ['missing userId', {}],
    ['userId an operator object', { userId: { $gt: '' } }],
    ['unknown key', { userId: 'alice', admin: true }],
  ])('%s → INVALID', async (_name, body) => {
    await refused('INVALID', () => request(base, 'POST', '/api/dev/token', { body }));
  });
});

describe('tokens (HS256 server)', () => {
  const claims = { name: 'Alice Client' };
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = () => Math.floor(Date.now() / 1000);

  const cases: Array<[string, () => string | undefined, Record<string, string>?]> = [
    [
      'alg none',
      () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', name: 'Alice', exp: now() + 3600 })}.`,
    ],
    [
      'alg none with a signature part',
      () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', exp: now() + 3600 })}.AAAA`,
    ],
    [
      'a wrong key',
      () =>
        jwt.sign(claims, 'some-other-secret-that-is-long-enough!!', {
          algorithm: 'HS256',
          subject: 'alice',
          expiresIn: '1h',
        }),
    ],
    [
      'HS512 with the right key',
      () => jwt.sign(claims, SECRET, { algorithm: 'HS512', subject: 'alice', expiresIn: '1h' }),
    ],
    [
      'expired',
      () => jwt.sign({ ...claims, exp: now() - 60 }, SECRET, { algorithm: 'HS256', subject: 'alice' }),
    ],
    [
      'without exp',
      () => jwt.sign(claims, SECRET, { algorithm: 'HS256', subject: 'alice', noTimestamp: true }),
    ],
    ['without sub', () => jwt.sign(claims, SECRET, { algorithm: 'HS256', expiresIn: '1h' })],
    [
      'a sub that is not an id',
      () => jwt.sign(claims, SECRET, { algorithm: 'HS256', subject: '$gt', expiresIn: '1h' }),
    ],
    [
      'not yet valid',
      () =>
        jwt.sign(claims, SECRET, { algorithm: 'HS256', subject: 'alice', expiresIn: '2h', notBefore: '1h' }),
    ],
    ['garbage', () => 'not.a.jwt'],
    [
      'a tampered payload',
      () => {
        const [h, , s] = jwt
          .sign(claims, SECRET, { algorithm: 'HS256', subject: 'bob', expiresIn: '1h' })
          .split('.');
        return `${h}.${b64({ sub: 'alice', name: 'Alice', exp: now() + 3600 })}.${s}`;
      },
    ],
    ['no token', () => undefined],
    ['a Basic header', () => undefined, { authorization: 'Basic YWxpY2U6cGFzcw==' }],
  ];

  it.each(cases)(
    '%s → UNAUTHENTICATED on every endpoint, and nothing changes',
    async (_name, make, headers = {}) => {
      const token = make();
      const opts = (body?: unknown) => ({
        ...(token ? { token } : {}),
        headers,
        ...(body === undefined ? {} : { body }),
      });
      await refused('UNAUTHENTICATED', () =>
        request(base, 'POST', '/api/rooms', opts({ title: 'Sneaky', freelancerId: 'bob' })),
      );
      await refused('UNAUTHENTICATED', () =>
        request(
          base,
          'POST',
          `/api/rooms/${roomId}/commands`,
          opts({ clientId: randomUUID(), command: { type: 'message.post', text: 'sneaky' } }),
        ),
      );
      for (const path of [
        '/api/rooms',
        `/api/rooms/${roomId}`,
        `/api/rooms/${roomId}/events`,
        `/api/rooms/${roomId}/export`,
        '/api/candidacies',
        '/api/notifications',
      ]) {
        const reply = await request(base, 'GET', path, opts());
        expectError(reply, 'UNAUTHENTICATED', 401);
        expect(JSON.stringify(reply.body)).not.toContain('Bad input target');
      }
    },
  );

  it('a correctly signed token works (the cases above fail for the reason they name)', async () => {
    const token = jwt.sign(claims, SECRET, { algorithm: 'HS256', subject: 'alice', expiresIn: '1h' });
    const reply = await request<RoomReply>(base, 'GET', `/api/rooms/${roomId}`, { token });
    expect(reply.status).toBe(200);
  });
});

describe('tokens (RS256 server with issuer and audience)', () => {
  const ISSUER = 'https://platform.example';
  const AUDIENCE = 'workroom';
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  let rs: TestServer;
  let rsTokens: Tokens;
  let rsRoom: string;

  const sign = (
    sub: string,
    extra: jwt.SignOptions = {},
    key = privatePem,
    payload: object = { name: sub },
  ) =>
    jwt.sign(payload, key, {
      algorithm: 'RS256',
      subject: sub,
      expiresIn: '1h',
      issuer: ISSUER,
      audience: AUDIENCE,
      ...extra,
    });

  beforeAll(async () => {
    rs = await startTestServer({ JWT_PUBLIC_KEY: publicPem, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });
    const names = ['alice', 'dave', 'bob', 'carol', 'erin', 'mallory'] as const;
    rsTokens = Object.fromEntries(names.map((n) => [n, sign(n)])) as Tokens;
    rsRoom = (await createRoom(rs.url, rsTokens.alice, { title: 'RS256 room', freelancerId: 'bob' })).id;
  });
  afterAll(async () => {
    await rs?.stop();
  });

  it('a valid RS256 token with the configured iss and aud is accepted', async () => {
    const reply = await request<RoomReply>(rs.url, 'GET', `/api/rooms/${rsRoom}`, { token: rsTokens.bob });
    expect(reply.status).toBe(200);
    expect(reply.body.room.title).toBe('RS256 room');
  });

  it('dev tokens are not issued without an HS256 secret', async () => {
    const reply = await request(rs.url, 'POST', '/api/dev/token', { body: { userId: 'alice' } });
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(reply.body)).not.toContain('"token"');
  });

  const hs = (key: string) =>
    jwt.sign({ name: 'alice' }, key, {
      algorithm: 'HS256',
      subject: 'alice',
      expiresIn: '1h',
      issuer: ISSUER,
      audience: AUDIENCE,
    });
  it.each<[string, () => string]>([
    ['HS256 signed with the public key (algorithm confusion)', () => hs(publicPem)],
    ['HS256 with the development secret', () => hs('workroom-development-secret-do-not-use-in-production')],
    ['RS256 with another key', () => sign('alice', {}, other)],
    ['a wrong issuer', () => sign('alice', { issuer: 'https://evil.example' })],
    ['a wrong audience', () => sign('alice', { audience: 'someone-else' })],
    [
      'no issuer',
      () =>
        jwt.sign({ name: 'alice' }, privatePem, {
          algorithm: 'RS256',
          subject: 'alice',
          expiresIn: '1h',
          audience: AUDIENCE,
        }),
    ],
    [
      'no audience',
      () =>
        jwt.sign({ name: 'alice' }, privatePem, {
          algorithm: 'RS256',
          subject: 'alice',
          expiresIn: '1h',
          issuer: ISSUER,
        }),
    ],
    ['expired', () => sign('alice', { expiresIn: -10 })],
    [
      'without exp',
      () =>
        jwt.sign({ name: 'alice' }, privatePem, {
          algorithm: 'RS256',
          subject: 'alice',
          issuer: ISSUER,
          audience: AUDIENCE,
          noTimestamp: true,
        }),
    ],
  ])('%s → UNAUTHENTICATED, and nothing changes', async (_name, make) => {
    const token = make();
    const before = await observe(rs.url, rsTokens, rsRoom);
    expectError(
      await request(rs.url, 'POST', '/api/rooms', { token, body: { title: 'Sneaky', freelancerId: 'bob' } }),
      'UNAUTHENTICATED',
      401,
    );
    expectError(
      await request(rs.url, 'POST', `/api/rooms/${rsRoom}/commands`, {
        token,
        body: { clientId: randomUUID(), command: { type: 'message.post', text: 'x' } },
      }),
      'UNAUTHENTICATED',
      401,
    );
    const read = await request(rs.url, 'GET', `/api/rooms/${rsRoom}`, { token });
    expectError(read, 'UNAUTHENTICATED', 401);
    expect(JSON.stringify(read.body)).not.toContain('RS256 room');
    expect(await observe(rs.url, rsTokens, rsRoom)).toEqual(before);
  });
});
