import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../support/cluster.js';
import { collect, command, connect, until } from '../support/socket-client.js';
import { redisAvailable } from './redis-notice.js';

describe.skipIf(!redisAvailable())('two nodes with Redis and one shared store', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start();
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('a message sent on node 1 reaches a member on node 2 live, and presence spans both', async () => {
    const roomId = await cluster.createRoom('Cross-node');
    const [node1, node2] = cluster.nodes;
    const alice = await connect(node1!.url, cluster.tokens.alice);
    const bob = await connect(node2!.url, cluster.tokens.bob);
    const live = collect(bob, 'room:event');
    const presence = collect(alice, 'room:presence');
    await alice.emitWithAck('room:join', { roomId });
    await bob.emitWithAck('room:join', { roomId });
    await until(() => presence.some((p) => p.online.join() === 'alice,bob'), 10_000, 'presence across nodes');
    const ack = await command(alice, roomId, { type: 'message.post', text: 'across the nodes' });
    expect(ack.ok).toBe(true);
    await until(() => live.some((p) => p.event.type === 'message.posted'), 10_000, 'live event on node 2');
    expect(live.find((p) => p.event.type === 'message.posted')!.event.data).toMatchObject({
      text: 'across the nodes',
    });
    alice.close();
    bob.close();
  });

  it('an offer made on one node reaches the agency manager on the other as a notification', async () => {
    const roomId = await cluster.createRoom('Cross-node offer');
    const [node1, node2] = cluster.nodes;
    const carol = await connect(node2!.url, cluster.tokens.carol);
    const notes = collect(carol, 'notification');
    const alice = await connect(node1!.url, cluster.tokens.alice);
    const ack = await command(alice, roomId, {
      type: 'terms.propose',
      terms: { kind: 'hourly', currency: 'EUR', hourlyRate: 6_000, weeklyLimitHours: 20 },
    });
    expect(ack.ok).toBe(true);
    await until(
      () => notes.some((n) => n.kind === 'offer' && n.roomId === roomId),
      10_000,
      'offer notification',
    );
    alice.close();
    carol.close();
  });
});
