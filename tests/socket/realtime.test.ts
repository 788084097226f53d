import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RoomSyncAck } from '../../shared/schemas/socket.js';
import { request } from '../support/http.js';
import { collect, command, connect, ok, until, type Ack } from '../support/socket-client.js';
import { sharedServer } from './shared-server.js';

const FIXED_TERMS = {
  kind: 'fixed' as const,
  currency: 'USD',
  milestones: [{ id: 'm1', title: 'Design', amount: 50_000 }],
};

const shared = sharedServer();
const { tokens, as, createRoom, join, seqOf } = shared;

describe('handshake', () => {
  it('refuses a missing or bad token with connect_error UNAUTHENTICATED', async () => {
    await expect(connect(shared.url, undefined)).rejects.toThrow('UNAUTHENTICATED');
    await expect(connect(shared.url, 'not-a-token')).rejects.toThrow('UNAUTHENTICATED');
  });

  it('refuses a browser origin that is not allowed (cross-site WebSocket hijacking)', async () => {
    await expect(
      connect(shared.url, tokens.alice, { extraHeaders: { origin: 'https://evil.example' } }),
    ).rejects.toThrow();
    const own = await connect(shared.url, tokens.alice, { extraHeaders: { origin: shared.url } });
    expect(own.connected).toBe(true);
    own.close();
  });
});

describe('room events', () => {
  it('join returns the state and every event after since, then events arrive live', async () => {
    const roomId = await createRoom();
    const alice = await as('alice');
    const bob = await as('bob');
    const first = await ok(join(alice, roomId));
    expect(first.room.id).toBe(roomId);
    expect(first.events.map((e) => e.type)).toEqual(['room.created']);
    expect(first.seq).toBe(1);

    const live = collect(bob, 'room:event');
    await ok(join(bob, roomId, 1));
    const ack = await ok(command(alice, roomId, { type: 'message.post', text: 'hello bob' }));
    expect(ack.seq).toBe(2);
    expect(ack.events.map((e) => [e.seq, e.type])).toEqual([[2, 'message.posted']]);
    await until(() => live.length === 1, 5_000, 'live event');
    expect(live[0]).toMatchObject({
      roomId,
      event: { seq: 2, type: 'message.posted', data: { text: 'hello bob' } },
    });
    expect(live[0]!.event.actor).toEqual({ id: 'alice', side: 'client', role: 'client' });

    const late = await ok(join(await as('bob'), roomId, 1));
    expect(late.events.map((e) => e.seq)).toEqual([2]);
  });

  it('sync fills a gap without changing subscriptions; leave stops live events', async () => {
    const roomId = await createRoom();
    const alice = await as('alice');
    const bob = await as('bob');
    await ok(join(alice, roomId));
    await ok(join(bob, roomId));
    for (let i = 0; i < 3; i++) await ok(command(alice, roomId, { type: 'message.post', text: `m${i}` }));
    const sync = (await bob.emitWithAck('room:sync', { roomId, since: 2 })) as Ack<RoomSyncAck>;
    expect((await ok(sync)).events.map((e) => e.seq)).toEqual([3, 4]);

    const live = collect(bob, 'room:event');
    await ok(bob.emitWithAck('room:leave', { roomId }));
    await ok(command(alice, roomId, { type: 'message.post', text: 'after leave' }));
    await new Promise((r) => setTimeout(r, 300));
    expect(live).toEqual([]);
  });

  it('read positions are stored, broadcast, and clear unread counts everywhere', async () => {
    const roomId = await createRoom();
    const alice = await as('alice');
    const bob = await as('bob');
    const bobElsewhere = await as('bob');
    await ok(join(alice, roomId));
    await ok(join(bob, roomId));
    for (let i = 0; i < 3; i++) await ok(command(alice, roomId, { type: 'message.post', text: `m${i}` }));
    const unread = async () => {
      const list = await request<{ rooms: Array<{ id: string; unread: number }> }>(
        shared.url,
        'GET',
        '/api/rooms',
        { token: tokens.bob },
      );
      return list.body.rooms.find((r) => r.id === roomId)!.unread;
    };
    expect(await unread()).toBe(4);
    const readsSeenByAlice = collect(alice, 'room:read');
    const readsSeenByOtherTab = collect(bobElsewhere, 'room:read');
    await ok(bob.emitWithAck('room:read', { roomId, seq: 4 }));
    await until(
      () => readsSeenByAlice.length === 1 && readsSeenByOtherTab.length === 1,
      5_000,
      'read broadcast',
    );
    expect(readsSeenByAlice[0]).toEqual({ roomId, userId: 'bob', seq: 4 });
    expect(await unread()).toBe(0);
    // A read position never moves back.
    await ok(bob.emitWithAck('room:read', { roomId, seq: 2 }));
    expect(await unread()).toBe(0);
  });

  it('typing reaches the others, not the sender; presence lists who is online', async () => {
    const roomId = await createRoom();
    const alice = await as('alice');
    const presence = collect(alice, 'room:presence');
    await ok(join(alice, roomId));
    const bob = await as('bob');
    await ok(join(bob, roomId));
    await until(() => presence.some((p) => p.online.join() === 'alice,bob'), 5_000, 'presence of both');
    const typingAtAlice = collect(alice, 'room:typing');
    const typingAtBob = collect(bob, 'room:typing');
    await ok(bob.emitWithAck('room:typing', { roomId, typing: true }));
    await until(() => typingAtAlice.length === 1, 5_000, 'typing');
    expect(typingAtAlice[0]).toEqual({ roomId, userId: 'bob', typing: true });
    expect(typingAtBob).toEqual([]);
    bob.close();
    await until(() => presence.at(-1)?.online.join() === 'alice', 5_000, 'presence after bob left');
  });

  it('notifications and candidacy updates reach every socket of the user, agency managers included', async () => {
    const roomId = await createRoom('Brand book');
    const carol = await as('carol');
    const bob = await as('bob');
    const carolNotes = collect(carol, 'notification');
    const carolCandidacies = collect(carol, 'candidacy:updated');
    const bobNotes = collect(bob, 'notification');
    const alice = await as('alice');
    await ok(command(alice, roomId, { type: 'terms.propose', terms: FIXED_TERMS }));
    await until(() => carolNotes.length > 0 && bobNotes.length > 0, 5_000, 'offer notifications');
    expect(carolNotes[0]).toMatchObject({ kind: 'offer', roomId });
    expect(carolNotes[0]!.text).toContain('Brand book');
    await until(() => carolCandidacies.some((c) => c.candidacy.phase === 'offer'), 5_000, 'candidacy update');
    expect(carolCandidacies.at(-1)!.candidacy).toMatchObject({
      roomId,
      myRole: 'agency_manager',
      openProposal: { version: 1, authorSide: 'client' },
    });
  });
});

describe('authorization', () => {
  it('an outsider can do nothing with a room, and learns nothing about it', async () => {
    const roomId = await createRoom('Secret project');
    const mallory = await as('mallory');
    const replies = [
      await join(mallory, roomId),
      await mallory.emitWithAck('room:sync', { roomId, since: 0 }),
      await command(mallory, roomId, { type: 'message.post', text: 'hi' }),
      await mallory.emitWithAck('room:read', { roomId, seq: 1 }),
      await join(mallory, 'r_doesnotexist'),
    ];
    for (const reply of replies) {
      expect(reply).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      expect(JSON.stringify(reply)).not.toContain('Secret project');
    }
    const typing = await mallory.emitWithAck('room:typing', { roomId, typing: true });
    expect(typing.ok).toBe(false);
    expect(await seqOf(roomId)).toBe(1);
  });

  it('roles are enforced per command, with the agency manager acting on behalf of the freelancer', async () => {
    const roomId = await createRoom();
    const alice = await as('alice');
    const bob = await as('bob');
    const carol = await as('carol');
    const dave = await as('dave');
    expect(await command(bob, roomId, { type: 'members.add', userIds: ['erin'] })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    await ok(command(alice, roomId, { type: 'members.add', userIds: ['dave'] }));
    await ok(command(dave, roomId, { type: 'message.post', text: 'interviewer here' }));
    await ok(command(alice, roomId, { type: 'terms.propose', terms: FIXED_TERMS }));
    // The author's side cannot accept its own proposal.
    expect(await command(alice, roomId, { type: 'terms.accept', version: 1 })).toMatchObject({
      ok: false,
      error: { code: 'CONFLICT' },
    });
    expect(await command(dave, roomId, { type: 'members.add', userIds: ['erin'] })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    const declined = await ok(
      command(carol, roomId, { type: 'terms.decline', version: 1, reason: 'rate too low' }),
    );
    expect(declined.events[0]!.actor).toEqual({
      id: 'carol',
      side: 'freelancer',
      role: 'agency_manager',
      onBehalfOf: 'bob',
    });
    expect(await command(carol, roomId, { type: 'contract.end' })).toMatchObject({ ok: false });
  });
});

describe('exactly once', () => {
  it('20 concurrent sends of one clientId append one event and ack the same seq', async () => {
    const roomId = await createRoom();
    const alice = await as('alice');
    const clientId = randomUUID();
    const before = await seqOf(roomId);
    const acks = await Promise.all(
      Array.from({ length: 20 }, () =>
        command(alice, roomId, { type: 'message.post', text: 'once' }, clientId),
      ),
    );
    const seqs = new Set(acks.map((a) => (a.ok ? a.seq : -1)));
    expect([...seqs]).toEqual([before + 1]);
    expect(await seqOf(roomId)).toBe(before + 1);
  });
});

describe('a busy room', () => {
  it('a burst of commands is acked and delivered in the order sent, gapless, a refusal among them changing nothing', async () => {
    const roomId = await createRoom();
    const alice = await as('alice');
    const bob = await as('bob');
    const before = (await ok(join(bob, roomId))).seq;
    const live = collect(bob, 'room:event');
    // Sent without waiting: the edit builds on the burst's first message, the second edit names
    // a message that does not exist.
    const sends = Array.from({ length: 120 }, (_, i) => {
      if (i === 50)
        return command(alice, roomId, { type: 'message.edit', seq: before + 1, text: 'edited in the burst' });
      if (i === 60)
        return command(alice, roomId, {
          type: 'message.edit',
          seq: before + 10_000,
          text: 'nothing to edit',
        });
      return command(alice, roomId, { type: 'message.post', text: `burst ${i}` });
    });
    const acks = await Promise.all(sends);
    const refused = acks[60]!;
    expect(refused.ok ? null : refused.error.code).toBe('NOT_FOUND');
    const seqs = acks.filter((a, i) => i !== 60).map((a) => (a.ok ? a.seq : -1));
    expect(seqs).toEqual(Array.from({ length: 119 }, (_, i) => before + 1 + i));
    await until(() => live.length >= 119, 10_000, 'the burst to arrive live');
    expect(live.map((p) => p.event.seq)).toEqual(seqs);
    expect(live[50]!.event.type).toBe('message.edited');
    expect(await seqOf(roomId)).toBe(before + 119);
  });
});

describe('catch-up', () => {
  it('after a disconnect a member gets exactly the missed events, in order', async () => {
    const roomId = await createRoom();
    const alice = await as('alice');
    let bob = await as('bob');
    const joined = await ok(join(bob, roomId));
    const lastSeen = joined.seq;
    bob.close();
    const sent: number[] = [];
    for (let i = 0; i < 5; i++)
      sent.push((await ok(command(alice, roomId, { type: 'message.post', text: `missed ${i}` }))).seq);
    bob = await as('bob');
    const rejoined = await ok(join(bob, roomId, lastSeen));
    expect(rejoined.events.map((e) => e.seq)).toEqual(sent);
    expect(rejoined.events.map((e) => (e.data as { text: string }).text)).toEqual(
      [0, 1, 2, 3, 4].map((i) => `missed ${i}`),
    );
  });
});

describe('privacy of feedback', () => {
  it('private feedback and unrevealed public feedback never reach the other side (live, join, sync, export)', async () => {
    const roomId = await createRoom();
    const alice = await as('alice');
    const bob = await as('bob');
    const carol = await as('carol');
    await ok(join(alice, roomId));
    await ok(join(bob, roomId));
    await ok(join(carol, roomId));
    await ok(command(alice, roomId, { type: 'terms.propose', terms: FIXED_TERMS }));
    await ok(command(bob, roomId, { type: 'terms.accept', version: 1 }));
    await ok(command(alice, roomId, { type: 'contract.end', reason: 'done' }));
    const bobLive = collect(bob, 'room:event');
    const carolLive = collect(carol, 'room:event');
    const aliceFeedback = await ok(
      command(alice, roomId, {
        type: 'feedback.submit',
        public: { rating: 2, comment: 'ALICE-PUBLIC' },
        private: { score: 1, note: 'ALICE-PRIVATE' },
      }),
    );
    expect(JSON.stringify(aliceFeedback)).toContain('ALICE-PRIVATE');
    await new Promise((r) => setTimeout(r, 300));

    const bobViews = async () => [
      JSON.stringify(bobLive),
      JSON.stringify(carolLive),
      JSON.stringify(await join(await as('bob'), roomId, 0)),
      JSON.stringify(await bob.emitWithAck('room:sync', { roomId, since: 0 })),
      JSON.stringify(
        (await request(shared.url, 'GET', `/api/rooms/${roomId}/export`, { token: tokens.bob })).body,
      ),
      JSON.stringify(
        (await request(shared.url, 'GET', `/api/rooms/${roomId}/events?after=0`, { token: tokens.carol }))
          .body,
      ),
      JSON.stringify((await request(shared.url, 'GET', `/api/rooms/${roomId}`, { token: tokens.bob })).body),
    ];
    for (const view of await bobViews()) {
      expect(view).not.toContain('ALICE-PRIVATE');
      expect(view).not.toContain('ALICE-PUBLIC');
    }

    // Bob submits: both public parts are revealed together; private notes stay with their authors.
    await ok(
      command(bob, roomId, {
        type: 'feedback.submit',
        public: { rating: 5, comment: 'BOB-PUBLIC' },
        private: { score: 9, note: 'BOB-PRIVATE' },
      }),
    );
    await until(() => bobLive.some((p) => p.event.type === 'feedback.revealed'), 5_000, 'reveal');
    for (const view of await bobViews()) {
      expect(view).not.toContain('ALICE-PRIVATE');
    }
    expect(JSON.stringify(bobLive)).toContain('ALICE-PUBLIC');
    const aliceViews = [
      JSON.stringify(await join(await as('alice'), roomId, 0)),
      JSON.stringify(
        (await request(shared.url, 'GET', `/api/rooms/${roomId}/export`, { token: tokens.alice })).body,
      ),
    ];
    for (const view of aliceViews) {
      expect(view).not.toContain('BOB-PRIVATE');
      expect(view).toContain('BOB-PUBLIC');
    }
  });
});
