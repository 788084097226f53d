/**
 * Every HTTP endpoint of PROTOCOL.md over real HTTP against one server with its embedded store:
 * health, readiness, dev tokens, rooms (create, list, state, paged events, verifiable export),
 * the command endpoint through a whole contract, candidacies and notifications.
 */
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain, type HiddenEvent } from '../../server/application/evidence.js';
import { messageList, type StoredEvent } from '../../shared/domain/index.js';
import { request } from '../support/http.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  allEvents,
  command,
  createRoom,
  eventually,
  expectContiguous,
  expectError,
  FIXED_TERMS,
  getRoom,
  seededTokens,
  sendCommand,
  type CandidaciesReply,
  type CommandReply,
  type EventsReply,
  type ExportReply,
  type NotificationsReply,
  type RoomsReply,
  type Tokens,
} from './helpers.js';

let server: TestServer;
let base: string;
let tokens: Tokens;

beforeAll(async () => {
  server = await startTestServer();
  base = server.url;
  tokens = await seededTokens(base);
});
afterAll(async () => {
  await server?.stop();
});

describe('health and readiness', () => {
  it('GET /healthz answers 200 { ok: true } without a token', async () => {
    const reply = await request(base, 'GET', '/healthz');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ ok: true });
  });

  it('GET /readyz answers 200 while the store answers', async () => {
    const reply = await request<{ ok: boolean; checks: Record<string, boolean> }>(base, 'GET', '/readyz');
    expect(reply.status).toBe(200);
    expect(reply.body.ok).toBe(true);
    expect(reply.body.checks.mongodb).toBe(true);
  });

  it('sends security headers', async () => {
    const reply = await request(base, 'GET', '/healthz');
    expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
    expect(reply.headers.get('x-powered-by')).toBeNull();
  });
});

describe('POST /api/dev/token', () => {
  it('returns a token and the seeded profile, with the agency for bob and carol', async () => {
    const bob = await request<{
      token: string;
      user: { id: string; name: string; agency?: { id: string; role: string } };
    }>(base, 'POST', '/api/dev/token', { body: { userId: 'bob' } });
    expect(bob.status).toBe(200);
    expect(bob.body.token.split('.')).toHaveLength(3);
    expect(bob.body.user).toEqual({
      id: 'bob',
      name: 'Bob Freelancer',
      agency: { id: 'acme', role: 'member' },
    });
    const carol = await request<{ user: { agency?: { role: string } } }>(base, 'POST', '/api/dev/token', {
      body: { userId: 'carol' },
    });
    expect(carol.body.user.agency).toEqual({ id: 'acme', role: 'manager' });
  });

  it('refuses an unknown user', async () => {
    expectError(await request(base, 'POST', '/api/dev/token', { body: { userId: 'zed' } }), 'NOT_FOUND', 404);
  });

  it('is absent in production', async () => {
    const secret = 'x'.repeat(40);
    const prod = await startTestServer({ NODE_ENV: 'production', JWT_SECRET: secret });
    try {
      const anonymous = await request(prod.url, 'POST', '/api/dev/token', { body: { userId: 'alice' } });
      expect([401, 404]).toContain(anonymous.status);
      expect(JSON.stringify(anonymous.body)).not.toContain('token"');
      const signed = jwt.sign({ name: 'Alice Client' }, secret, {
        algorithm: 'HS256',
        subject: 'alice',
        expiresIn: '1h',
      });
      expectError(
        await request(prod.url, 'POST', '/api/dev/token', { token: signed, body: { userId: 'alice' } }),
        'NOT_FOUND',
        404,
      );
    } finally {
      await prod.stop();
    }
  });
});

describe('rooms', () => {
  it('POST /api/rooms creates a room in phase interview; the caller is its client', async () => {
    const reply = await request<{ ok: boolean; room: { id: string } & Record<string, unknown> }>(
      base,
      'POST',
      '/api/rooms',
      {
        token: tokens.alice,
        body: { title: 'Logo design', freelancerId: 'bob', jobId: 'job-logo', interviewerIds: ['dave'] },
      },
    );
    expect(reply.status).toBe(201);
    expect(reply.body.ok).toBe(true);
    expect(reply.body.room).toMatchObject({
      title: 'Logo design',
      phase: 'interview',
      clientId: 'alice',
      freelancerId: 'bob',
      jobId: 'job-logo',
      interviewerIds: ['dave'],
      agencyId: 'acme',
      seq: 1,
    });
    expect(reply.body.room.id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.:@-]*$/);
  });

  it('a freelancerId the server has not seen yet is accepted', async () => {
    const room = await createRoom(base, tokens.alice, {
      title: 'For a newcomer',
      freelancerId: 'newcomer-1',
    });
    expect(room).toMatchObject({ freelancerId: 'newcomer-1', agencyId: null, phase: 'interview' });
  });

  it('GET /api/rooms lists my rooms newest activity first, with seq, unread and myRole', async () => {
    const older = await createRoom(base, tokens.alice, { title: 'List older', freelancerId: 'erin' });
    const newer = await createRoom(base, tokens.alice, { title: 'List newer', freelancerId: 'erin' });
    await command(base, tokens.erin, older.id, { type: 'message.post', text: 'hello from erin' });
    await command(base, tokens.erin, older.id, { type: 'message.post', text: 'and again' });

    const alice = await request<RoomsReply>(base, 'GET', '/api/rooms', { token: tokens.alice });
    expect(alice.status).toBe(200);
    const ids = alice.body.rooms.map((r) => r.id);
    // The older room had activity last, so it is listed first.
    expect(ids.indexOf(older.id)).toBeLessThan(ids.indexOf(newer.id));
    const item = alice.body.rooms.find((r) => r.id === older.id)!;
    expect(item).toEqual({
      id: older.id,
      title: 'List older',
      phase: 'interview',
      seq: 3,
      unread: 2,
      lastActivityAt: expect.any(String) as unknown,
      myRole: 'client',
    });
    const times = alice.body.rooms.map((r) => Date.parse(r.lastActivityAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    // erin wrote both messages herself: only alice's room.created is unread for her.
    const erin = await request<RoomsReply>(base, 'GET', '/api/rooms', { token: tokens.erin });
    expect(erin.body.rooms.find((r) => r.id === older.id)).toMatchObject({
      myRole: 'freelancer',
      unread: 1,
      seq: 3,
    });
    // mallory is a party to nothing.
    const mallory = await request<RoomsReply>(base, 'GET', '/api/rooms', { token: tokens.mallory });
    expect(mallory.body.rooms).toEqual([]);
  });

  it('GET /api/rooms/:id returns the folded state with seq', async () => {
    const room = await createRoom(base, tokens.alice, { title: 'State', freelancerId: 'erin' });
    await command(base, tokens.erin, room.id, { type: 'message.post', text: 'one' });
    const state = await getRoom(base, tokens.erin, room.id);
    expect(state).toMatchObject({ id: room.id, title: 'State', seq: 2, phase: 'interview' });
    expect(messageList(state.messages).map((m) => m.seq)).toEqual([2]);
  });
});

describe('GET /api/rooms/:id/events', () => {
  let roomId: string;
  const MESSAGES = 23;

  beforeAll(async () => {
    roomId = (await createRoom(base, tokens.alice, { title: 'Paging', freelancerId: 'erin' })).id;
    for (let i = 0; i < MESSAGES; i++) {
      await command(base, i % 2 ? tokens.alice : tokens.erin, roomId, {
        type: 'message.post',
        text: `message ${i}`,
      });
    }
  });

  it('returns every event in seq order with the room seq', async () => {
    const reply = await request<EventsReply>(base, 'GET', `/api/rooms/${roomId}/events`, {
      token: tokens.alice,
    });
    expect(reply.status).toBe(200);
    expect(reply.body.seq).toBe(MESSAGES + 1);
    expectContiguous(reply.body.events);
    expect(reply.body.events[0]!.type).toBe('room.created');
    for (const e of reply.body.events) {
      expect(Object.keys(e)).toEqual(
        expect.arrayContaining(['seq', 'type', 'at', 'actor', 'data', 'hash', 'prevHash']),
      );
    }
  });

  it('pages with after and limit, and the pages join into the whole log', async () => {
    const page = await request<EventsReply>(base, 'GET', `/api/rooms/${roomId}/events?after=5&limit=4`, {
      token: tokens.erin,
    });
    expect(page.body.events.map((e) => e.seq)).toEqual([6, 7, 8, 9]);
    expect(page.body.seq).toBe(MESSAGES + 1);

    const paged = await allEvents(base, tokens.erin, roomId, 5);
    const whole = await allEvents(base, tokens.erin, roomId);
    expect(paged).toEqual(whole);
    expect(whole).toHaveLength(MESSAGES + 1);
    expect(verifyChain(roomId, whole)).toEqual({ ok: true, checked: MESSAGES + 1 });

    const past = await request<EventsReply>(
      base,
      'GET',
      `/api/rooms/${roomId}/events?after=${MESSAGES + 1}`,
      { token: tokens.erin },
    );
    expect(past.body.events).toEqual([]);
  });

  it('limit is at most 500', async () => {
    expectError(
      await request(base, 'GET', `/api/rooms/${roomId}/events?limit=501`, { token: tokens.alice }),
      'INVALID',
      400,
    );
    const max = await request<EventsReply>(base, 'GET', `/api/rooms/${roomId}/events?limit=500`, {
      token: tokens.alice,
    });
    expect(max.status).toBe(200);
  });
});

describe('a whole contract through POST /api/rooms/:id/commands', () => {
  let roomId: string;

  beforeAll(async () => {
    roomId = (
      await createRoom(base, tokens.alice, { title: 'Contract', freelancerId: 'bob', jobId: 'job-contract' })
    ).id;
  });

  it('answers 201 { ok, seq, events }, and a repeated clientId 200 with the same result', async () => {
    const clientId = randomUUID();
    const first = await sendCommand(
      base,
      tokens.bob,
      roomId,
      { type: 'message.post', text: 'Hi Alice' },
      clientId,
    );
    expect(first.status).toBe(201);
    const ack = first.body as CommandReply;
    expect(ack.ok).toBe(true);
    expect(ack.seq).toBe(2);
    expect(ack.events).toHaveLength(1);
    expect(ack.events[0]).toMatchObject({
      seq: 2,
      type: 'message.posted',
      actor: { id: 'bob', side: 'freelancer', role: 'freelancer' },
    });

    const again = await sendCommand(
      base,
      tokens.bob,
      roomId,
      { type: 'message.post', text: 'Hi Alice' },
      clientId,
    );
    expect(again.status).toBe(200);
    expect(again.body).toEqual(ack);
    expect((await getRoom(base, tokens.alice, roomId)).seq).toBe(2);
  });

  it('offer, counter by the agency manager, accept, fund, submit, changes, release, report, end, feedback', async () => {
    const offer = await command(base, tokens.alice, roomId, { type: 'terms.propose', terms: FIXED_TERMS });
    expect(offer.events[0]).toMatchObject({ type: 'terms.proposed', data: { version: 1 } });
    expect((await getRoom(base, tokens.bob, roomId)).phase).toBe('offer');

    // carol counters on bob's behalf; the event says so.
    const counterTerms = {
      ...FIXED_TERMS,
      milestones: FIXED_TERMS.milestones.map((m) => ({ ...m, amount: m.amount + 10_000 })),
    };
    const counter = await command(base, tokens.carol, roomId, { type: 'terms.propose', terms: counterTerms });
    expect(counter.events[0]!.actor).toEqual({
      id: 'carol',
      side: 'freelancer',
      role: 'agency_manager',
      onBehalfOf: 'bob',
    });
    expect(counter.events[0]!.data).toMatchObject({ version: 2, supersedes: 1 });

    const accepted = await command(base, tokens.alice, roomId, { type: 'terms.accept', version: 2 });
    expect(accepted.events.map((e) => e.type)).toEqual(['terms.accepted', 'contract.started']);
    let state = await getRoom(base, tokens.bob, roomId);
    expect(state.phase).toBe('active');
    expect(state.milestones.map((m) => [m.id, m.status, m.amount])).toEqual([
      ['m1', 'pending', 60_000],
      ['m2', 'pending', 130_000],
    ]);

    await command(base, tokens.alice, roomId, { type: 'milestone.fund', milestoneId: 'm1' });
    await command(base, tokens.bob, roomId, {
      type: 'milestone.submit',
      milestoneId: 'm1',
      note: 'First sketches',
    });
    await command(base, tokens.alice, roomId, {
      type: 'milestone.requestChanges',
      milestoneId: 'm1',
      note: 'More colour',
    });
    await command(base, tokens.bob, roomId, {
      type: 'milestone.submit',
      milestoneId: 'm1',
      note: 'Coloured',
    });
    const released = await command(base, tokens.alice, roomId, {
      type: 'milestone.release',
      milestoneId: 'm1',
    });
    expect(released.events[0]).toMatchObject({
      type: 'milestone.released',
      data: { milestoneId: 'm1', auto: false },
    });
    await command(base, tokens.bob, roomId, {
      type: 'statusReport.submit',
      periodStart: '2025-03-03',
      periodEnd: '2025-03-09',
      summary: 'Sketches done',
      hours: 12.5,
      progress: [{ milestoneId: 'm1', percent: 100 }],
    });
    state = await getRoom(base, tokens.alice, roomId);
    expect(state.milestones[0]).toMatchObject({ status: 'released', autoReleased: false });
    expect(state.statusReports).toHaveLength(1);

    // A command the state does not allow is CONFLICT and appends nothing.
    const seqBefore = state.seq;
    expectError(
      await sendCommand(base, tokens.alice, roomId, { type: 'milestone.release', milestoneId: 'm1' }),
      'CONFLICT',
      409,
    );
    expect((await getRoom(base, tokens.alice, roomId)).seq).toBe(seqBefore);

    await command(base, tokens.alice, roomId, { type: 'contract.end', reason: 'done' });
    const mine = await command(base, tokens.alice, roomId, {
      type: 'feedback.submit',
      public: { rating: 5, comment: 'Great work' },
      private: { score: 10, note: 'alice-private-note' },
    });
    expect(mine.events.map((e) => e.type)).toEqual(['feedback.submitted']);
    // Private until both have submitted: bob's view has no trace of it.
    const bobView = await getRoom(base, tokens.bob, roomId);
    expect(bobView.feedback.client).toBeNull();
    expect(JSON.stringify(await allEvents(base, tokens.bob, roomId))).not.toContain('alice-private-note');

    const theirs = await command(base, tokens.bob, roomId, {
      type: 'feedback.submit',
      public: { rating: 4, comment: 'Clear brief' },
      private: { score: 9 },
    });
    expect(theirs.events.map((e) => e.type)).toEqual(['feedback.submitted', 'feedback.revealed']);
    expect((await getRoom(base, tokens.bob, roomId)).revealed).toMatchObject({
      client: { rating: 5, comment: 'Great work' },
      freelancer: { rating: 4, comment: 'Clear brief' },
    });
  });

  it('the export verifies end to end, hides private feedback, and any tampering fails verification', async () => {
    const reply = await request<ExportReply>(base, 'GET', `/api/rooms/${roomId}/export`, {
      token: tokens.bob,
    });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-disposition')).toContain('attachment');
    const body = reply.body;
    expect(body.format).toBe('workroom-export/1');
    expect(body.viewer).toEqual({ id: 'bob', side: 'freelancer', role: 'freelancer' });
    expect(body.verification.chain.ok).toBe(true);
    const seq = (await getRoom(base, tokens.bob, roomId)).seq;
    expect(body.events).toHaveLength(seq);
    expectContiguous(body.events);
    expect(verifyChain(roomId, body.events)).toEqual({ ok: true, checked: seq });

    // alice's feedback.submitted (audience: alice) is a hidden link in bob's export.
    const hidden = body.events.filter((e): e is HiddenEvent => 'hidden' in e);
    expect(hidden).toHaveLength(1);
    expect(Object.keys(hidden[0]!).sort()).toEqual(['hash', 'hidden', 'prevHash', 'seq']);
    expect(JSON.stringify(body)).not.toContain('alice-private-note');

    // alice sees her own private note in her export.
    const aliceExport = await request<ExportReply>(base, 'GET', `/api/rooms/${roomId}/export`, {
      token: tokens.alice,
    });
    expect(JSON.stringify(aliceExport.body)).toContain('alice-private-note');
    expect(verifyChain(roomId, aliceExport.body.events).ok).toBe(true);

    const visible = body.events.filter((e): e is StoredEvent => !('hidden' in e));
    const target = visible.find((e) => e.type === 'milestone.released')!;
    const tampered = (edit: (e: StoredEvent) => StoredEvent) =>
      body.events.map((e) => ('hidden' in e || e.seq !== target.seq ? e : edit(structuredClone(e))));

    const amount = tampered((e) => ({ ...e, data: { ...(e.data as object), amount: 1 } }) as StoredEvent);
    expect(verifyChain(roomId, amount)).toMatchObject({ ok: false, seq: target.seq });
    const when = tampered((e) => ({ ...e, at: new Date(0).toISOString() }));
    expect(verifyChain(roomId, when)).toMatchObject({ ok: false, seq: target.seq });
    // Re-hashing the edited event does not help: the next event's prevHash no longer matches.
    const rehashed = tampered((e) => ({ ...e, hash: '0'.repeat(64) }));
    expect(verifyChain(roomId, rehashed).ok).toBe(false);
    const dropped = body.events.filter((e) => e.seq !== target.seq);
    expect(verifyChain(roomId, dropped).ok).toBe(false);
    // The same events under another room id do not verify either.
    expect(verifyChain('r_other', body.events).ok).toBe(false);
  });
});

describe('candidacies and notifications', () => {
  let offered: string;
  let chatting: string;
  let erinRoom: string;

  beforeAll(async () => {
    chatting = (
      await createRoom(base, tokens.alice, {
        title: 'Candidacy chat',
        freelancerId: 'bob',
        jobId: 'job-cand',
      })
    ).id;
    offered = (
      await createRoom(base, tokens.alice, {
        title: 'Candidacy offer',
        freelancerId: 'bob',
        jobId: 'job-cand',
      })
    ).id;
    erinRoom = (
      await createRoom(base, tokens.alice, {
        title: 'Candidacy erin',
        freelancerId: 'erin',
        jobId: 'job-cand',
      })
    ).id;
    await command(base, tokens.alice, offered, { type: 'terms.propose', terms: FIXED_TERMS });
    // Activity after the offer, so the chat room is the newest: the offer must still come first.
    await command(base, tokens.bob, chatting, { type: 'message.post', text: 'latest activity' });
  });

  it('the freelancer sees their candidacies, pending offers first', async () => {
    const reply = await request<CandidaciesReply>(base, 'GET', '/api/candidacies', { token: tokens.bob });
    expect(reply.status).toBe(200);
    const list = reply.body.candidacies;
    expect(list[0]).toMatchObject({
      roomId: offered,
      phase: 'offer',
      myRole: 'freelancer',
      openProposal: { version: 1, authorSide: 'client' },
    });
    expect(list.map((c) => c.roomId)).toContain(chatting);
    expect(list.map((c) => c.roomId)).not.toContain(erinRoom);
    expect(list.every((c) => c.freelancerId === 'bob')).toBe(true);
  });

  it('the client sees the candidates per job', async () => {
    const reply = await request<CandidaciesReply>(base, 'GET', '/api/candidacies', { token: tokens.alice });
    const forJob = reply.body.candidacies.filter((c) => c.jobId === 'job-cand');
    expect(forJob.map((c) => c.roomId).sort()).toEqual([chatting, offered, erinRoom].sort());
    expect(forJob.every((c) => c.myRole === 'client')).toBe(true);
    const offers = reply.body.candidacies.filter((c) => c.phase === 'offer');
    expect(reply.body.candidacies.slice(0, offers.length)).toEqual(offers);
  });

  it("the agency manager sees the whole team's candidacies, pending offers first", async () => {
    const reply = await request<CandidaciesReply>(base, 'GET', '/api/candidacies', { token: tokens.carol });
    const list = reply.body.candidacies;
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((c) => c.agencyId === 'acme' && c.myRole === 'agency_manager')).toBe(true);
    expect(list.map((c) => c.roomId)).toEqual(expect.arrayContaining([offered, chatting]));
    expect(list.map((c) => c.roomId)).not.toContain(erinRoom);
    expect(list[0]!.phase).toBe('offer');
    const firstNonOffer = list.findIndex((c) => c.phase !== 'offer');
    expect(list.slice(firstNonOffer).every((c) => c.phase !== 'offer')).toBe(true);
  });

  it('outsiders and unrelated users have no candidacies of these rooms', async () => {
    const mallory = await request<CandidaciesReply>(base, 'GET', '/api/candidacies', {
      token: tokens.mallory,
    });
    expect(mallory.body.candidacies).toEqual([]);
  });

  const notificationsOf = async (token: string, roomId: string) => {
    const reply = await request<NotificationsReply>(base, 'GET', '/api/notifications', { token });
    expect(reply.status).toBe(200);
    return reply.body.notifications.filter((n) => n.roomId === roomId);
  };

  it('an offer to bob notifies bob and cc’s carol, not the outsider or the author', async () => {
    const kinds = (token: string) => notificationsOf(token, offered);
    // Notifications are stored after the sender's answer: wait for them to land.
    await eventually(
      async () => ((await kinds(tokens.carol)).length > 0 ? true : undefined),
      5_000,
      'carol cc',
    );
    const bob = await kinds(tokens.bob);
    expect(bob).toEqual([
      expect.objectContaining({
        kind: 'offer',
        roomId: offered,
        text: expect.stringContaining('Candidacy offer') as unknown,
        read: false,
      }),
    ]);
    expect((await kinds(tokens.carol)).map((n) => n.kind)).toEqual(['offer']);
    expect(await kinds(tokens.alice)).toEqual([]);
    expect(await kinds(tokens.mallory)).toEqual([]);
    expect(await kinds(tokens.erin)).toEqual([]);
  });

  it('the other side is notified of answers; unread notifications come first', async () => {
    await command(base, tokens.carol, offered, { type: 'terms.decline', version: 1, reason: 'busy' });
    const declined = await eventually(
      async () => (await notificationsOf(tokens.alice, offered)).find((n) => n.kind === 'terms.declined'),
      5_000,
      'the decline notification',
    );
    expect(declined.text).toContain('Carol Manager');
    const alice = await request<NotificationsReply>(base, 'GET', '/api/notifications', {
      token: tokens.alice,
    });
    const list = alice.body.notifications;
    const firstRead = list.findIndex((n) => n.read === true);
    if (firstRead >= 0) expect(list.slice(firstRead).every((n) => n.read === true)).toBe(true);
  });
});
