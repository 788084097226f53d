/**
 * Bad input of every kind over real HTTP — missing fields, wrong types, unknown keys, operator
 * objects, `__proto__` keys, malformed JSON, oversized bodies, bad query parameters — each answers
 * the documented code in the error shape, and nothing changes: the room's seq and the room list
 * are the same before and after. Bad tokens have their own suite (bad-tokens.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode, ErrorResponse } from '../../shared/schemas/errors.js';
import { request, type Reply } from '../support/http.js';
import type { TestServer } from '../support/server.js';
import { FIXED_TERMS, type Tokens } from './helpers.js';
import { refusedIn, startWatched, WATCHED_TITLE } from './unchanged.js';

let server: TestServer;
let base: string;
let tokens: Tokens;
let roomId: string;

beforeAll(async () => {
  // Each case reads the room and the lists before and after: hundreds of requests a second from
  // one user, past the per-user allowances (tested in tests/socket/limits.test.ts).
  ({
    server,
    url: base,
    tokens,
    roomId,
  } = await startWatched({ RATE_LIMIT_COMMANDS: '0', RATE_LIMIT_EVENTS: '0' }));
});
afterAll(async () => {
  await server?.stop();
});

/** Sends a bad request to this suite's server; asserts the code, the error shape, and that nothing changed. */
const refused = (code: ErrorCode, send: () => Promise<Reply<unknown>>) =>
  refusedIn({ url: base, tokens, roomId }, code, send);

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
    expect(JSON.stringify(reply.body)).not.toContain(WATCHED_TITLE);
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
