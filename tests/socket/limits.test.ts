/**
 * The server's limits over real Socket.IO and HTTP connections, each test against a server of its
 * own configured for it: commands, other events and HTTP requests per 10 s, the history a user may
 * be sent, the pause (or close) of a connection past its budget, token expiry and connections per
 * user.
 */
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { upload } from '../files/helpers.js';
import { devToken, request } from '../support/http.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { collect, command, connect, ok, until, type WorkroomSocket } from '../support/socket-client.js';

interface LimitedServer {
  limited: TestServer;
  aliceToken: string;
  bobToken: string;
  roomId: string;
}

describe('limits', () => {
  /**
   * Runs `test` against a server of its own, configured with `env`, with alice's and bob's tokens
   * there and a room of theirs; the server is stopped however the test ends.
   */
  async function withLimitedServer(
    env: Record<string, string>,
    test: (server: LimitedServer) => Promise<void>,
  ): Promise<void> {
    const limited = await startTestServer(env);
    try {
      const aliceToken = await devToken(limited.url, 'alice');
      const bobToken = await devToken(limited.url, 'bob');
      const room = await request<{ room: { id: string } }>(limited.url, 'POST', '/api/rooms', {
        token: aliceToken,
        body: { title: 't', freelancerId: 'bob' },
      });
      await test({ limited, aliceToken, bobToken, roomId: room.body.room.id });
    } finally {
      await limited.stop();
    }
  }

  it('rate-limits commands per connection, and per user over HTTP, with RATE_LIMITED', () =>
    withLimitedServer({ RATE_LIMIT_COMMANDS: '5' }, async ({ limited, aliceToken, roomId }) => {
      const socket = await connect(limited.url, aliceToken);
      const acks = [];
      for (let i = 0; i < 7; i++)
        acks.push(await command(socket, roomId, { type: 'message.post', text: `m${i}` }));
      expect(acks.slice(0, 5).every((a) => a.ok)).toBe(true);
      expect(acks[5]).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
      const replies = [];
      for (let i = 0; i < 7; i++) {
        replies.push(
          await request(limited.url, 'POST', `/api/rooms/${roomId}/commands`, {
            token: aliceToken,
            body: { clientId: randomUUID(), command: { type: 'message.post', text: `h${i}` } },
          }),
        );
      }
      // Creating the room was the first of alice's five over HTTP.
      expect(replies.map((r) => r.status)).toEqual([201, 201, 201, 201, 429, 429, 429]);
      expect(replies[4]!.body).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
      // The room took the five and the four, and nothing that was refused.
      const joined = await ok(socket.emitWithAck('room:join', { roomId }));
      expect(joined.events.filter((e) => e.type === 'message.posted')).toHaveLength(9);
      socket.close();
    }));

  it('counts every write over HTTP as a command, new rooms and files too, and each read per user', () =>
    withLimitedServer(
      { RATE_LIMIT_COMMANDS: '3', RATE_LIMIT_EVENTS: '4' },
      async ({ limited, aliceToken, bobToken, roomId }) => {
        const newRoom = (title: string) =>
          request(limited.url, 'POST', '/api/rooms', {
            token: aliceToken,
            body: { title, freelancerId: 'bob' },
          });
        // Creating the first room was alice's first write; a second room and a file are the others.
        expect((await newRoom('second')).status).toBe(201);
        expect((await upload(limited.url, aliceToken, roomId, 'first', 'first.txt')).status).toBe(201);
        for (const refused of [await newRoom('third'), await upload(limited.url, aliceToken, roomId, 'x')]) {
          expect(refused.status).toBe(429);
          expect(refused.body).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
        }
        const reads = [];
        for (let i = 0; i < 5; i++)
          reads.push(await request(limited.url, 'GET', '/api/rooms', { token: aliceToken }));
        expect(reads.map((r) => r.status)).toEqual([200, 200, 200, 200, 429]);
        expect(reads[4]!.body).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
        // Nothing refused was kept, and bob's reads are his own.
        const listed = await request<{ rooms: unknown[] }>(limited.url, 'GET', '/api/rooms', {
          token: bobToken,
        });
        expect(listed.body.rooms).toHaveLength(2);
        const events = await request<{ events: Array<{ type: string }> }>(
          limited.url,
          'GET',
          `/api/rooms/${roomId}/events?after=0`,
          { token: bobToken },
        );
        expect(events.body.events.filter((e) => e.type === 'file.shared')).toHaveLength(1);
      },
    ));

  it('rate-limits every other event per connection, and the refused ones reach nobody', () =>
    withLimitedServer({ RATE_LIMIT_EVENTS: '5' }, async ({ limited, aliceToken, bobToken, roomId }) => {
      const [alice, bob] = [await connect(limited.url, aliceToken), await connect(limited.url, bobToken)];
      await ok(bob.emitWithAck('room:join', { roomId }));
      const typingAtBob = collect(bob, 'room:typing');
      await ok(alice.emitWithAck('room:join', { roomId }));
      const acks = [];
      for (let i = 0; i < 4; i++)
        acks.push(await alice.emitWithAck('room:typing', { roomId, typing: i % 2 === 0 }));
      acks.push(await (alice as unknown as Socket).emitWithAck('room:unknown', {}));
      acks.push(await alice.emitWithAck('room:typing', { roomId, typing: true }));
      expect(acks.slice(0, 4).every((a) => a.ok)).toBe(true);
      expect(acks[4]).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
      expect(acks[5]).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
      // Commands keep their own limit; the other connection keeps its own budget.
      await ok(command(alice, roomId, { type: 'message.post', text: 'still heard' }));
      await ok(bob.emitWithAck('room:typing', { roomId, typing: true }));
      await until(() => typingAtBob.length === 4, 5_000, 'the four typing events within the limit');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(typingAtBob).toHaveLength(4);
      alice.close();
      bob.close();
    }));

  it('reads nothing for a while from a connection past its budget, however much it sends', () =>
    withLimitedServer({ RATE_LIMIT_EVENTS: '5' }, async ({ limited, aliceToken, bobToken, roomId }) => {
      const [alice, bob] = [await connect(limited.url, aliceToken), await connect(limited.url, bobToken)];
      const raw = alice as unknown as Socket;
      const answers: unknown[] = [];
      // 200 requests of 16 KB: far more than one read from the connection holds.
      const padding = 'p'.repeat(16 * 1024);
      for (let i = 0; i < 200; i++) raw.emit('room:unknown', { padding }, (a: unknown) => answers.push(a));
      await until(() => answers.length > 5, 5_000, 'the first answers');
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Without the pause all 200 are answered within milliseconds.
      expect(answers.length).toBeLessThan(50);
      for (const a of answers.slice(5))
        expect(a).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
      // Another connection is read as before.
      await ok(bob.emitWithAck('room:join', { roomId }));
      expect(alice.connected).toBe(true);
      alice.close();
      bob.close();
    }));

  it('closes a long-polling connection past its budget, whose requests cannot be held back', () =>
    withLimitedServer(
      { RATE_LIMIT_EVENTS: '5', RATE_LIMIT_COMMANDS: '3' },
      async ({ limited, aliceToken, roomId }) => {
        const floods = {
          'events without acks': (s: Socket) => s.emit('room:typing', { roomId, typing: true }),
          'commands without acks': (s: Socket) =>
            s.emit('room:command', {
              roomId,
              clientId: randomUUID(),
              command: { type: 'message.post', text: 'unanswered' },
            }),
          // Acks past the limit are never answered: the connection closes under them.
          commands: (s: Socket) =>
            void command(s as WorkroomSocket, roomId, { type: 'message.post', text: 'flood' }).catch(
              () => {},
            ),
        };
        for (const [what, send] of Object.entries(floods)) {
          const polling = await connect(limited.url, aliceToken, { transports: ['polling'] });
          const closed = new Promise<string>((resolve) => polling.once('disconnect', resolve));
          for (let i = 0; i < 20; i++) send(polling as unknown as Socket);
          expect([what, await closed]).toEqual([what, 'transport close']);
        }
      },
    ));

  it("limits the history a user is sent per 10 s, over all the user's connections and HTTP", () =>
    withLimitedServer(
      { RATE_LIMIT_HISTORY_EVENTS: '30' },
      async ({ limited, aliceToken, bobToken, roomId }) => {
        const bob = await connect(limited.url, bobToken);
        for (let i = 0; i < 19; i++) await ok(command(bob, roomId, { type: 'message.post', text: `m${i}` }));
        const [first, second, third] = [
          await connect(limited.url, aliceToken),
          await connect(limited.url, aliceToken),
          await connect(limited.url, aliceToken),
        ];
        // The room's history, then as much again: the second read starts within the budget of 30
        // and overdraws it.
        const joined = await ok(first.emitWithAck('room:join', { roomId }));
        const history = joined.seq;
        expect(joined.events).toHaveLength(history);
        expect(history).toBeGreaterThan(15);
        expect((await ok(second.emitWithAck('room:sync', { roomId, since: 0 }))).events).toHaveLength(
          history,
        );
        const refused = [
          await first.emitWithAck('room:sync', { roomId, since: 0 }),
          await third.emitWithAck('room:join', { roomId }),
        ];
        for (const reply of refused)
          expect(reply).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
        for (const path of [`/api/rooms/${roomId}/events?after=0`, `/api/rooms/${roomId}/export`]) {
          const reply = await request(limited.url, 'GET', path, { token: aliceToken });
          expect(reply.status).toBe(429);
          expect(reply.body).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
        }
        // The refused join subscribed nothing; the other user has a budget of their own.
        const atThird = collect(third, 'room:event');
        const atFirst = collect(first, 'room:event');
        await ok(command(bob, roomId, { type: 'message.post', text: 'after' }));
        await until(() => atFirst.length === 1, 5_000, 'the live event at the joined connection');
        expect(atThird).toEqual([]);
        expect((await ok(bob.emitWithAck('room:join', { roomId }))).events).toHaveLength(history + 1);
        for (const s of [bob, first, second, third]) s.close();
      },
    ));

  it('disconnects a socket when its token expires', () => {
    const secret = 'a-test-secret-that-is-long-enough-to-use';
    return withLimitedServer({ JWT_SECRET: secret }, async ({ limited }) => {
      const token = jwt.sign({ name: 'Bob' }, secret, { algorithm: 'HS256', subject: 'bob', expiresIn: 2 });
      const socket = await connect(limited.url, token);
      const reason = await new Promise<string>((resolve) => socket.on('disconnect', resolve));
      expect(reason).toBe('io server disconnect');
    });
  });

  it('caps connections per user', () =>
    withLimitedServer({ MAX_CONNECTIONS_PER_USER: '2' }, async ({ limited, bobToken }) => {
      const a = await connect(limited.url, bobToken);
      const b = await connect(limited.url, bobToken);
      await expect(connect(limited.url, bobToken)).rejects.toThrow('RATE_LIMITED');
      a.close();
      b.close();
    }));
});
