/**
 * The authorization matrix of the six seeded users over every HTTP endpoint: alice (client),
 * dave (interviewer, added by alice), bob (freelancer of agency acme), carol (acme's manager,
 * acting on bob's behalf), erin (an unrelated freelancer) and mallory (an outsider). Outsiders get
 * FORBIDDEN or NOT_FOUND and learn nothing: not the title, not a count, not even whether the room
 * exists (a made-up room id gets the very same answer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from '../../shared/domain/index.js';
import type { ErrorResponse } from '../../shared/schemas/errors.js';
import { request, type Reply } from '../support/http.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  command,
  createRoom,
  FIXED_TERMS,
  getRoom,
  seededTokens,
  sendCommand,
  SEEDED,
  type CandidaciesReply,
  type EventsReply,
  type ExportReply,
  type NotificationsReply,
  type RoomReply,
  type RoomsReply,
  type SeededUser,
  type Tokens,
} from './helpers.js';

const TITLE = 'Confidential rebrand for Zephyr Holdings';
const PARTIES = ['alice', 'dave', 'bob', 'carol'] as const;
const OUTSIDERS = ['erin', 'mallory'] as const;
const MISSING_ROOM = 'r_doesNotExist000000';

let server: TestServer;
let base: string;
let tokens: Tokens;
let roomId: string;

beforeAll(async () => {
  server = await startTestServer();
  base = server.url;
  tokens = await seededTokens(base);
  roomId = (await createRoom(base, tokens.alice, { title: TITLE, freelancerId: 'bob', jobId: 'job-zephyr' }))
    .id;
  await command(base, tokens.alice, roomId, { type: 'members.add', userIds: ['dave'] });
  await command(base, tokens.bob, roomId, { type: 'message.post', text: 'Happy to help with the rebrand' });
});
afterAll(async () => {
  await server?.stop();
});

/** An outsider's answer: the error shape, FORBIDDEN or NOT_FOUND, and nothing about the room. */
function expectNothingLearned(reply: Reply<unknown>): ErrorResponse {
  const body = reply.body as ErrorResponse;
  expect([403, 404]).toContain(reply.status);
  expect(body.ok).toBe(false);
  expect(['FORBIDDEN', 'NOT_FOUND']).toContain(body.error.code);
  expect(reply.status).toBe(body.error.code === 'FORBIDDEN' ? 403 : 404);
  const text = JSON.stringify(body);
  expect(text).not.toContain(TITLE);
  expect(text).not.toContain('Zephyr');
  expect(text).not.toContain('rebrand');
  expect(text).not.toContain('job-zephyr');
  // No seq, count, or any other number.
  expect(text).not.toMatch(/\d/);
  expect(Object.keys(body)).toEqual(['ok', 'error']);
  return body;
}

const READS = [
  (id: string) => `/api/rooms/${id}`,
  (id: string) => `/api/rooms/${id}/events`,
  (id: string) => `/api/rooms/${id}/events?after=0&limit=10`,
  (id: string) => `/api/rooms/${id}/export`,
];

describe('reads of one room', () => {
  it.each(PARTIES)('%s, a party, reads the state, the events and the export', async (user) => {
    const state = await request<RoomReply>(base, 'GET', `/api/rooms/${roomId}`, { token: tokens[user] });
    expect(state.status).toBe(200);
    expect(state.body.room.title).toBe(TITLE);
    const events = await request<EventsReply>(base, 'GET', `/api/rooms/${roomId}/events`, {
      token: tokens[user],
    });
    expect(events.status).toBe(200);
    expect(events.body.events.length).toBe(events.body.seq);
    const exported = await request<ExportReply>(base, 'GET', `/api/rooms/${roomId}/export`, {
      token: tokens[user],
    });
    expect(exported.status).toBe(200);
    expect(exported.body.viewer.id).toBe(user);
  });

  it('each party has its role and side', async () => {
    const roles: Record<string, unknown> = {};
    for (const user of PARTIES) {
      const exported = await request<ExportReply>(base, 'GET', `/api/rooms/${roomId}/export`, {
        token: tokens[user],
      });
      roles[user] = exported.body.viewer;
    }
    expect(roles).toEqual({
      alice: { id: 'alice', side: 'client', role: 'client' },
      dave: { id: 'dave', side: 'client', role: 'interviewer' },
      bob: { id: 'bob', side: 'freelancer', role: 'freelancer' },
      carol: { id: 'carol', side: 'freelancer', role: 'agency_manager' },
    });
  });

  it.each(OUTSIDERS)(
    '%s, an outsider, gets the same answer for this room as for a room that does not exist',
    async (user) => {
      for (const path of READS) {
        const existing = await request(base, 'GET', path(roomId), { token: tokens[user] });
        const missing = await request(base, 'GET', path(MISSING_ROOM), { token: tokens[user] });
        expectNothingLearned(existing);
        expectNothingLearned(missing);
        expect({ status: existing.status, body: existing.body }).toEqual({
          status: missing.status,
          body: missing.body,
        });
      }
    },
  );

  it('a party asking for a room that does not exist gets that same answer too', async () => {
    const mine = await request(base, 'GET', `/api/rooms/${MISSING_ROOM}`, { token: tokens.alice });
    const outsider = await request(base, 'GET', `/api/rooms/${roomId}`, { token: tokens.mallory });
    expectNothingLearned(mine);
    expect(mine.body).toEqual(outsider.body);
  });
});

describe('commands', () => {
  it.each(OUTSIDERS)('%s cannot post, and the room does not change', async (user) => {
    const before = await getRoom(base, tokens.alice, roomId);
    const commands: Command[] = [
      { type: 'message.post', text: 'let me in' },
      { type: 'members.add', userIds: [user] },
      { type: 'terms.propose', terms: FIXED_TERMS },
      { type: 'contract.end' },
    ];
    for (const cmd of commands) {
      const existing = await sendCommand(base, tokens[user], roomId, cmd);
      const missing = await sendCommand(base, tokens[user], MISSING_ROOM, cmd);
      expectNothingLearned(existing);
      expect({ status: existing.status, body: existing.body }).toEqual({
        status: missing.status,
        body: missing.body,
      });
    }
    expect((await getRoom(base, tokens.alice, roomId)).seq).toBe(before.seq);
  });

  it.each(PARTIES)('%s, a party, may post a message', async (user) => {
    const ack = await command(base, tokens[user], roomId, {
      type: 'message.post',
      text: `hello from ${user}`,
    });
    expect(ack.events[0]!.actor.id).toBe(user);
  });

  it('only the client adds members; dave was an outsider until added', async () => {
    const other = (await createRoom(base, tokens.alice, { title: 'Second room', freelancerId: 'bob' })).id;
    expectNothingLearned(await request(base, 'GET', `/api/rooms/${other}`, { token: tokens.dave }));
    for (const user of ['bob', 'carol'] as const) {
      const reply = await sendCommand(base, tokens[user], other, { type: 'members.add', userIds: ['erin'] });
      expect((reply.body as ErrorResponse).error.code).toBe('FORBIDDEN');
      expect(reply.status).toBe(403);
    }
    await command(base, tokens.alice, other, { type: 'members.add', userIds: ['dave'] });
    expect((await getRoom(base, tokens.dave, other)).interviewerIds).toEqual(['dave']);
    const byDave = await sendCommand(base, tokens.dave, other, { type: 'members.add', userIds: ['erin'] });
    expect(byDave.status).toBe(403);
    expect((await getRoom(base, tokens.alice, other)).interviewerIds).toEqual(['dave']);
  });

  it('the role rules of a contract: who offers, who accepts (carol on bob’s behalf), who funds, submits, ends', async () => {
    const id = (
      await createRoom(base, tokens.alice, { title: 'Roles', freelancerId: 'bob', interviewerIds: ['dave'] })
    ).id;
    const refuse = async (user: SeededUser, cmd: Command, code: 'FORBIDDEN' | 'CONFLICT') => {
      const seq = (await getRoom(base, tokens.alice, id)).seq;
      const reply = await sendCommand(base, tokens[user], id, cmd);
      expect({ user, cmd: cmd.type, code: (reply.body as ErrorResponse).error?.code }).toEqual({
        user,
        cmd: cmd.type,
        code,
      });
      expect((await getRoom(base, tokens.alice, id)).seq).toBe(seq);
    };
    // The freelancer side does not make the offer.
    await refuse('bob', { type: 'terms.propose', terms: FIXED_TERMS }, 'CONFLICT');
    await refuse('carol', { type: 'terms.propose', terms: FIXED_TERMS }, 'CONFLICT');
    // The interviewer is client side: he may make the offer.
    await command(base, tokens.dave, id, { type: 'terms.propose', terms: FIXED_TERMS });
    // The offering side cannot accept its own offer.
    await refuse('alice', { type: 'terms.accept', version: 1 }, 'CONFLICT');
    // carol accepts for bob; the record says so.
    const accepted = await command(base, tokens.carol, id, { type: 'terms.accept', version: 1 });
    expect(accepted.events.map((e) => [e.type, e.actor])).toEqual([
      ['terms.accepted', { id: 'carol', side: 'freelancer', role: 'agency_manager', onBehalfOf: 'bob' }],
      ['contract.started', { id: 'carol', side: 'freelancer', role: 'agency_manager', onBehalfOf: 'bob' }],
    ]);
    // Funding is the client side's; submitting is the freelancer's alone.
    await refuse('bob', { type: 'milestone.fund', milestoneId: 'm1' }, 'FORBIDDEN');
    await refuse('carol', { type: 'milestone.fund', milestoneId: 'm1' }, 'FORBIDDEN');
    await command(base, tokens.dave, id, { type: 'milestone.fund', milestoneId: 'm1' });
    await refuse('carol', { type: 'milestone.submit', milestoneId: 'm1', note: 'n' }, 'FORBIDDEN');
    await refuse('alice', { type: 'milestone.submit', milestoneId: 'm1', note: 'n' }, 'FORBIDDEN');
    await command(base, tokens.bob, id, { type: 'milestone.submit', milestoneId: 'm1', note: 'done' });
    await refuse('bob', { type: 'milestone.release', milestoneId: 'm1' }, 'FORBIDDEN');
    await command(base, tokens.alice, id, { type: 'milestone.release', milestoneId: 'm1' });
    const report: Command = {
      type: 'statusReport.submit',
      periodStart: '2025-01-01',
      periodEnd: '2025-01-07',
      summary: 's',
      hours: 1,
      progress: [],
    };
    await refuse('carol', report, 'FORBIDDEN');
    await refuse('dave', report, 'FORBIDDEN');
    await command(base, tokens.bob, id, report);
    // Only principals end the contract and leave feedback.
    await refuse('dave', { type: 'contract.end' }, 'FORBIDDEN');
    await refuse('carol', { type: 'contract.end' }, 'FORBIDDEN');
    await command(base, tokens.bob, id, { type: 'contract.end' });
    const feedback: Command = {
      type: 'feedback.submit',
      public: { rating: 5, comment: 'ok' },
      private: { score: 8 },
    };
    await refuse('dave', feedback, 'FORBIDDEN');
    await refuse('carol', feedback, 'FORBIDDEN');
    await command(base, tokens.alice, id, feedback);
    // Messages by others cannot be edited or deleted.
    const messageSeq = (await getRoom(base, tokens.alice, roomId)).seq + 1;
    await command(base, tokens.alice, roomId, { type: 'message.post', text: 'mine' });
    for (const user of ['dave', 'bob', 'carol'] as const) {
      const edit = await sendCommand(base, tokens[user], roomId, {
        type: 'message.edit',
        seq: messageSeq,
        text: 'x',
      });
      expect(edit.status).toBe(403);
      const del = await sendCommand(base, tokens[user], roomId, { type: 'message.delete', seq: messageSeq });
      expect(del.status).toBe(403);
    }
  });

  it('a clientId used in one room does not leak another room’s result', async () => {
    const clientId = crypto.randomUUID();
    const first = await sendCommand(
      base,
      tokens.alice,
      roomId,
      { type: 'message.post', text: 'first' },
      clientId,
    );
    expect(first.status).toBe(201);
    const other = await sendCommand(
      base,
      tokens.mallory,
      MISSING_ROOM,
      { type: 'message.post', text: 'first' },
      clientId,
    );
    expectNothingLearned(other);
    const again = await sendCommand(
      base,
      tokens.mallory,
      roomId,
      { type: 'message.post', text: 'first' },
      clientId,
    );
    expectNothingLearned(again);
  });
});

describe('lists', () => {
  it('the room list: parties see the room with their role; outsiders do not see it at all', async () => {
    const expected: Record<string, string | undefined> = {
      alice: 'client',
      dave: 'interviewer',
      bob: 'freelancer',
      carol: 'agency_manager',
    };
    for (const user of SEEDED) {
      const reply = await request<RoomsReply>(base, 'GET', '/api/rooms', { token: tokens[user] });
      expect(reply.status).toBe(200);
      expect(reply.body.rooms.find((r) => r.id === roomId)?.myRole).toBe(expected[user]);
      if (!expected[user]) expect(JSON.stringify(reply.body)).not.toContain(TITLE);
    }
  });

  it('candidacies: the freelancer, the client and the manager see it; the interviewer and outsiders do not learn it', async () => {
    const seen: Record<string, string | undefined> = {};
    for (const user of SEEDED) {
      const reply = await request<CandidaciesReply>(base, 'GET', '/api/candidacies', { token: tokens[user] });
      expect(reply.status).toBe(200);
      seen[user] = reply.body.candidacies.find((c) => c.roomId === roomId)?.myRole;
      if (user === 'erin' || user === 'mallory') expect(JSON.stringify(reply.body)).not.toContain(TITLE);
    }
    expect(seen).toMatchObject({
      alice: 'client',
      bob: 'freelancer',
      carol: 'agency_manager',
      erin: undefined,
      mallory: undefined,
    });
  });

  it('notifications: outsiders get none about the room', async () => {
    await command(base, tokens.alice, roomId, { type: 'terms.propose', terms: FIXED_TERMS });
    for (const user of OUTSIDERS) {
      const reply = await request<NotificationsReply>(base, 'GET', '/api/notifications', {
        token: tokens[user],
      });
      expect(reply.status).toBe(200);
      expect(reply.body.notifications.filter((n) => n.roomId === roomId)).toEqual([]);
      expect(JSON.stringify(reply.body)).not.toContain(TITLE);
    }
  });

  it('every endpoint without a token is UNAUTHENTICATED and reveals nothing', async () => {
    const paths: Array<[string, string]> = [
      ['GET', '/api/rooms'],
      ['POST', '/api/rooms'],
      ['GET', `/api/rooms/${roomId}`],
      ['GET', `/api/rooms/${roomId}/events`],
      ['GET', `/api/rooms/${roomId}/export`],
      ['POST', `/api/rooms/${roomId}/commands`],
      ['GET', '/api/candidacies'],
      ['GET', '/api/notifications'],
    ];
    for (const [method, path] of paths) {
      const reply = await request<ErrorResponse>(base, method, path, method === 'POST' ? { body: {} } : {});
      expect({ path, status: reply.status, code: reply.body.error?.code }).toEqual({
        path,
        status: 401,
        code: 'UNAUTHENTICATED',
      });
      expect(JSON.stringify(reply.body)).not.toContain(TITLE);
    }
  });
});
