/**
 * Two server processes sharing one standalone embedded store (`npm run db`), hammered with
 * concurrent commands to ONE room from several users, some retried with the same clientId on both
 * processes at once: the log has contiguous seq 1..N, no duplicates, every acknowledged command
 * exactly once, an unbroken hash chain, and N = the creation's events + the distinct accepted
 * commands. Then everything is stopped and started again on the same data directory: every room
 * is still there with the same seq and the same chain.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../server/application/evidence.js';
import type { StoredEvent } from '../../shared/domain/index.js';
import type { ErrorResponse } from '../../shared/schemas/errors.js';
import { request } from '../support/http.js';
import { spawnServer, spawnStore, tempDir, type ChildServer } from '../support/server.js';
import {
  allEvents,
  command,
  createRoom,
  eventually,
  expectContiguous,
  seededTokens,
  sendCommand,
  type CommandReply,
  type RoomsReply,
  type Tokens,
} from './helpers.js';

const PER_PROCESS = 100;
const RETRIED = 20;
const IN_FLIGHT = 24;
const SENDERS = ['alice', 'dave', 'bob', 'carol'] as const;

const data = tempDir('workroom-multi-');
const children: ChildServer[] = [];
let servers: [string, string];
let tokens: Tokens;

async function startAll(): Promise<[string, string]> {
  const store = await spawnStore({ DB_PORT: '0', DATA_DIR: data.dir });
  children.push(store);
  const uri = `${/^mongodb:\/\/[^/]+/.exec(store.url)![0]}/workroom`;
  const env = { MONGODB_URI: uri, PORT: '0', RATE_LIMIT_COMMANDS: '0' };
  const [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
  children.push(a, b);
  return [a.url, b.url];
}

/** Servers first, then the store: each with SIGTERM, as an operator would. */
async function stopAll(): Promise<void> {
  const list = children.splice(0);
  const [store, ...rest] = list;
  const codes = await Promise.all(rest.map((c) => c.stop('SIGTERM')));
  const storeCode = await store?.stop('SIGTERM');
  expect([...codes, storeCode]).toEqual(list.map(() => 0));
}

beforeAll(async () => {
  servers = await startAll();
  tokens = await seededTokens(servers[0]);
}, 60_000);

afterAll(async () => {
  await Promise.all(children.splice(0).map((c) => c.stop('SIGKILL')));
  data.remove();
});

/** Runs the tasks with at most `limit` in flight. */
async function pool<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

interface Sent {
  clientId: string;
  text: string;
  acks: Array<{ status: number; body: CommandReply }>;
}

/**
 * Sends one command like a real client: retried with the same clientId while the answer is a
 * transient refusal (the room busy). Every reply that is an ack is kept.
 */
async function send(
  url: string,
  token: string,
  roomId: string,
  clientId: string,
  text: string,
): Promise<{ status: number; body: CommandReply }> {
  for (let attempt = 0; ; attempt++) {
    const reply = await sendCommand(url, token, roomId, { type: 'message.post', text }, clientId);
    if (reply.status === 201 || reply.status === 200)
      return { status: reply.status, body: reply.body as CommandReply };
    const code = (reply.body as ErrorResponse).error?.code;
    if (code !== 'CONFLICT' || attempt >= 10)
      throw new Error(`command refused: ${reply.status} ${JSON.stringify(reply.body)}`);
  }
}

describe('two processes, one store, one room', () => {
  let roomId: string;
  let baseline: number;
  let sent: Sent[];
  let before: { rooms: RoomsReply['rooms']; events: Map<string, StoredEvent[]> };

  it('concurrent commands through both processes produce one contiguous, unbroken log', async () => {
    const room = await createRoom(servers[0], tokens.alice, { title: 'Hammered', freelancerId: 'bob' });
    roomId = room.id;
    await command(servers[1], tokens.alice, roomId, { type: 'members.add', userIds: ['dave'] });
    baseline = (await allEvents(servers[0], tokens.alice, roomId)).length;
    expect(baseline).toBe(2);

    sent = [];
    const tasks: Array<() => Promise<unknown>> = [];
    for (let i = 0; i < 2 * PER_PROCESS; i++) {
      const s: Sent = { clientId: randomUUID(), text: `message ${i}`, acks: [] };
      sent.push(s);
      const url = servers[i % 2]!;
      const token = tokens[SENDERS[i % SENDERS.length]!];
      tasks.push(async () => s.acks.push(await send(url, token, roomId, s.clientId, s.text)));
    }
    // Retries: the same clientId to both processes at once (a client that timed out and
    // reconnected elsewhere), and once more afterwards.
    for (let i = 0; i < RETRIED; i++) {
      const s: Sent = { clientId: randomUUID(), text: `retried ${i}`, acks: [] };
      sent.push(s);
      const token = tokens[SENDERS[i % SENDERS.length]!];
      tasks.splice(i * 10, 0, async () => {
        const acks = await Promise.all(servers.map((url) => send(url, token, roomId, s.clientId, s.text)));
        s.acks.push(...acks);
        s.acks.push(await send(servers[i % 2]!, token, roomId, s.clientId, s.text));
      });
    }
    await pool(tasks, IN_FLIGHT);

    // Every clientId: exactly one 201 among its answers, all answers the same seq and events.
    for (const s of sent) {
      expect(
        s.acks.filter((a) => a.status === 201),
        s.text,
      ).toHaveLength(1);
      for (const a of s.acks) {
        expect(a.body.seq).toBe(s.acks[0]!.body.seq);
        expect(a.body.events).toEqual(s.acks[0]!.body.events);
      }
    }

    const events = await allEvents(servers[1], tokens.bob, roomId, 37);
    expectContiguous(events);
    expect(events).toHaveLength(baseline + sent.length);
    expect(new Set(events.map((e) => e.hash)).size).toBe(events.length);
    expect(verifyChain(roomId, events)).toEqual({ ok: true, checked: events.length });
    // Both processes serve the same history.
    expect(await allEvents(servers[0], tokens.alice, roomId)).toEqual(events);

    // Each acknowledged command is in the log exactly once, at the seq its ack named.
    const posted = events.filter((e) => e.type === 'message.posted');
    const byText = new Map<string, StoredEvent[]>();
    for (const e of posted) {
      const text = (e.data as { text: string }).text;
      byText.set(text, [...(byText.get(text) ?? []), e]);
    }
    for (const s of sent) {
      const found = byText.get(s.text) ?? [];
      expect(found, s.text).toHaveLength(1);
      expect(found[0]!.seq).toBe(s.acks[0]!.body.seq);
      expect(found[0]!.hash).toBe(s.acks[0]!.body.events[0]!.hash);
    }
    expect(posted).toHaveLength(sent.length);

    // The room's state in both processes agrees with the log.
    for (const url of servers) {
      const state = await request<{ room: { seq: number } }>(url, 'GET', `/api/rooms/${roomId}`, {
        token: tokens.carol,
      });
      expect(state.body.room.seq).toBe(events.length);
    }
  }, 60_000);

  it('a retried clientId after the fact still appends nothing, on either process', async () => {
    const seq = (await allEvents(servers[0], tokens.alice, roomId)).length;
    for (const s of sent.slice(0, 10)) {
      const token = tokens.alice;
      for (const url of servers) {
        const reply = await sendCommand(
          url,
          token,
          roomId,
          { type: 'message.post', text: s.text },
          s.clientId,
        );
        // The clientId belongs to the room: whoever repeats it gets the first result.
        expect(reply.status).toBe(200);
        expect((reply.body as CommandReply).seq).toBe(s.acks[0]!.body.seq);
      }
    }
    expect((await allEvents(servers[1], tokens.alice, roomId)).length).toBe(seq);
  });

  it('a restart of both processes and the store keeps every room, its seq and its chain', async () => {
    // A few more rooms, in different states.
    for (let i = 0; i < 4; i++) {
      const id = (
        await createRoom(servers[i % 2]!, tokens.alice, {
          title: `Room ${i}`,
          freelancerId: i % 2 ? 'erin' : 'bob',
        })
      ).id;
      for (let j = 0; j <= i; j++)
        await command(servers[j % 2]!, tokens.alice, id, { type: 'message.post', text: `note ${j}` });
    }
    // A room's summary is written just after its command is answered, by the process that ran
    // it: the list on the other process catches up a moment later.
    const rooms = await eventually(
      async () => {
        const list = await request<RoomsReply>(servers[0], 'GET', '/api/rooms', { token: tokens.alice });
        for (const r of list.body.rooms)
          if ((await allEvents(servers[0], tokens.alice, r.id)).length !== r.seq) return undefined;
        return list.body.rooms;
      },
      5_000,
      'every listed seq to match its log',
    );
    expect(rooms.length).toBe(5);
    before = { rooms, events: new Map() };
    for (const r of rooms) before.events.set(r.id, await allEvents(servers[0], tokens.alice, r.id));

    await stopAll();
    servers = await startAll();

    const after = await request<RoomsReply>(servers[1], 'GET', '/api/rooms', { token: tokens.alice });
    expect(after.body.rooms.map((r) => ({ id: r.id, seq: r.seq, title: r.title, phase: r.phase }))).toEqual(
      before.rooms.map((r) => ({ id: r.id, seq: r.seq, title: r.title, phase: r.phase })),
    );
    for (const r of after.body.rooms) {
      const events = await allEvents(servers[0], tokens.alice, r.id);
      expect(events).toEqual(before.events.get(r.id));
      expectContiguous(events);
      expect(verifyChain(r.id, events).ok).toBe(true);
    }

    // The chain continues where it stopped, and old clientIds are still remembered.
    const last = before.events.get(roomId)!.at(-1)!;
    const next = await command(servers[1], tokens.bob, roomId, {
      type: 'message.post',
      text: 'after the restart',
    });
    expect(next.events[0]).toMatchObject({ seq: last.seq + 1, prevHash: last.hash });
    const old = sent[0]!;
    const repeat = await sendCommand(
      servers[0],
      tokens.alice,
      roomId,
      { type: 'message.post', text: old.text },
      old.clientId,
    );
    expect(repeat.status).toBe(200);
    expect((repeat.body as CommandReply).seq).toBe(old.acks[0]!.body.seq);
    expect(verifyChain(roomId, await allEvents(servers[0], tokens.alice, roomId)).ok).toBe(true);
  }, 60_000);
});
