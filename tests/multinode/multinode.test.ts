import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../shared/schemas/events.js';
import { devToken, request } from '../support/http.js';
import {
  hasBinary,
  spawnServer,
  spawnStore,
  startRedis,
  tempDir,
  type ChildServer,
  type RedisProcess,
} from '../support/server.js';
import { collect, command, connect, RoomMember, until } from '../support/socket-client.js';

const redisAvailable = hasBinary('redis-server');
if (!redisAvailable) {
  console.warn(
    '\n' +
      '*************************************************************************\n' +
      '*  SKIPPING the multi-node suite: redis-server is not installed.         *\n' +
      '*  Install it (apt-get install redis-server) to run it; CI always does.  *\n' +
      '*************************************************************************\n',
  );
}

const SERVER_ENV = { RATE_LIMIT_COMMANDS: '0', LOG_LEVEL: 'info' };

describe.skipIf(!redisAvailable)('several nodes with Redis and one shared store', () => {
  const data = tempDir();
  let redis: RedisProcess;
  let store: ChildServer;
  let node1: ChildServer;
  let node2: ChildServer;
  let mongoUri: string;
  const tokens: Record<string, string> = {};

  const startNode = () => spawnServer({ ...SERVER_ENV, PORT: '0', MONGODB_URI: mongoUri, REDIS_URL: redis.url });

  async function createRoom(title: string): Promise<string> {
    const reply = await request<{ room: { id: string } }>(node1.url, 'POST', '/api/rooms', {
      token: tokens.alice,
      body: { title, freelancerId: 'bob' },
    });
    expect(reply.status).toBe(201);
    return reply.body.room.id;
  }

  /** Everything a member holds: contiguous seqs from 1, each message text exactly once. */
  function expectCompleteLog(member: RoomMember, texts: string[]): void {
    expect(member.events.map((e) => e.seq)).toEqual(member.events.map((_, i) => i + 1));
    const seen = member.events.filter((e) => e.type === 'message.posted').map((e) => (e.data as { text: string }).text);
    for (const text of texts) expect(seen.filter((t) => t === text), `${member.name} has "${text}" once`).toHaveLength(1);
  }

  beforeAll(async () => {
    redis = await startRedis();
    store = await spawnStore({ DB_PORT: '0', DATA_DIR: data.dir });
    mongoUri = store.url.endsWith('/workroom') ? store.url : `${store.url}/workroom`;
    [node1, node2] = await Promise.all([startNode(), startNode()]);
    for (const user of ['alice', 'bob', 'carol', 'dave']) {
      tokens[user] = await devToken(node1.url, user);
      await request(node1.url, 'GET', '/api/rooms', { token: tokens[user] });
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all([node1?.stop(), node2?.stop()]);
    await store?.stop();
    await redis?.stop();
    data.remove();
  });

  it('a message sent on node 1 reaches a member on node 2 live, and presence spans both', async () => {
    const roomId = await createRoom('Cross-node');
    const alice = await connect(node1.url, tokens.alice);
    const bob = await connect(node2.url, tokens.bob);
    const live = collect(bob, 'room:event');
    const presence = collect(alice, 'room:presence');
    await alice.emitWithAck('room:join', { roomId });
    await bob.emitWithAck('room:join', { roomId });
    await until(() => presence.some((p) => p.online.join() === 'alice,bob'), 10_000, 'presence across nodes');
    const ack = await command(alice, roomId, { type: 'message.post', text: 'across the nodes' });
    expect(ack.ok).toBe(true);
    await until(() => live.some((p) => p.event.type === 'message.posted'), 10_000, 'live event on node 2');
    expect(live.find((p) => p.event.type === 'message.posted')!.event.data).toMatchObject({ text: 'across the nodes' });
    alice.close();
    bob.close();
  });

  it('SIGKILL of node 1 while its clients send: they move to node 2 and every acknowledged event is there once, in order', async () => {
    const roomId = await createRoom('Failover');
    const aliceSocket = await connect(node1.url, tokens.alice);
    await command(aliceSocket, roomId, { type: 'members.add', userIds: ['dave'] });
    aliceSocket.close();

    const senders = [new RoomMember('alice', tokens.alice!, roomId), new RoomMember('bob', tokens.bob!, roomId)];
    const watchers = [new RoomMember('carol', tokens.carol!, roomId), new RoomMember('dave', tokens.dave!, roomId)];
    for (const m of senders) await m.attach(node1.url);
    for (const m of watchers) await m.attach(node2.url);

    const perSender = 40;
    const texts = senders.flatMap((m) => Array.from({ length: perSender }, (_, i) => `${m.name}-${i}`));
    const sending = senders.map(async (m) => {
      for (let i = 0; i < perSender; i++) await m.send({ type: 'message.post', text: `${m.name}-${i}` });
    });

    await until(() => senders.every((m) => m.acked.size >= 10), 20_000, 'some acknowledged commands');
    await node1.stop('SIGKILL');
    // A load balancer would send the reconnecting clients to the surviving node.
    await until(() => senders.every((m) => !m.connected), 10_000, 'clients noticing node 1 died');
    for (const m of senders) await m.attach(node2.url);
    await Promise.all(sending);

    const members = [...senders, ...watchers];
    const lastSeq = Math.max(...senders.flatMap((m) => [...m.acked.values()]));
    for (const m of members) {
      await until(async () => {
        await m.resync();
        return m.lastSeq >= lastSeq;
      }, 15_000, `${m.name} catching up`);
    }
    for (const m of members) {
      expectCompleteLog(m, texts);
      for (const sender of senders) {
        for (const seq of sender.acked.values()) expect(m.events[seq - 1]?.actor.id).toBe(sender.name);
      }
    }
    for (const m of members) m.detach();
    node1 = await startNode();
  }, 120_000);

  it('a Redis restart loses nothing: members fill the gap by seq', async () => {
    const roomId = await createRoom('Redis blip');
    const alice = new RoomMember('alice', tokens.alice!, roomId);
    const bob = new RoomMember('bob', tokens.bob!, roomId);
    await alice.attach(node1.url);
    await bob.attach(node2.url);
    const texts: string[] = [];
    const say = async (text: string) => {
      texts.push(text);
      await alice.send({ type: 'message.post', text });
    };
    await say('before');
    await redis.stop();
    for (let i = 0; i < 5; i++) await say(`during-${i}`);
    await redis.start();
    // Let the nodes' clients reconnect, then one more message shows every member any gap.
    await until(async () => (await request(node2.url, 'GET', '/readyz')).status === 200, 20_000, 'node 2 ready again');
    await say('after');
    for (const m of [alice, bob]) {
      await until(async () => {
        await m.resync();
        return m.events.some((e: RoomEvent) => (e.data as { text?: string }).text === 'after') && m.lastSeq === alice.lastSeq;
      }, 15_000, `${m.name} complete`);
      expectCompleteLog(m, texts);
    }
    alice.detach();
    bob.detach();
  }, 90_000);
});
