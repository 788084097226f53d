/**
 * Bad tokens over real HTTP — alg none, a wrong key, expired, no exp, a tampered payload, HS256
 * against an RS256 server (algorithm confusion), a wrong or missing issuer or audience — each is
 * refused UNAUTHENTICATED on every endpoint, reveals nothing of the room, and changes nothing.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../support/http.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createRoom, expectError, type RoomReply, type Tokens } from './helpers.js';
import { observe, refusedIn, startWatched, WATCHED_TITLE } from './unchanged.js';

const SECRET = 'bad-token-suite-secret-of-enough-length-0123456789';

let server: TestServer;
let base: string;
let tokens: Tokens;
let roomId: string;

beforeAll(async () => {
  ({ server, url: base, tokens, roomId } = await startWatched({ JWT_SECRET: SECRET }));
});
afterAll(async () => {
  await server?.stop();
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
      await refusedIn({ url: base, tokens, roomId }, 'UNAUTHENTICATED', () =>
        request(base, 'POST', '/api/rooms', opts({ title: 'Sneaky', freelancerId: 'bob' })),
      );
      await refusedIn({ url: base, tokens, roomId }, 'UNAUTHENTICATED', () =>
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
        expect(JSON.stringify(reply.body)).not.toContain(WATCHED_TITLE);
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
    const before = await observe({ url: rs.url, tokens: rsTokens, roomId: rsRoom });
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
    expect(await observe({ url: rs.url, tokens: rsTokens, roomId: rsRoom })).toEqual(before);
  });
});
