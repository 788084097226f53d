import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Load, settle, type FaultReport } from '../support/cluster.js';
import { request } from '../support/http.js';
import { until } from '../support/socket-client.js';
import { redisAvailable } from './redis-notice.js';

/**
 * Faults under load: clients keep sending while a node, the store or Redis is killed and brought
 * back. Each scenario reports acknowledged events lost and duplicates seen (both must be 0) and
 * how long until every member had caught up.
 */
describe.skipIf(!redisAvailable())('faults under load', () => {
  let cluster: Cluster;
  const reports: FaultReport[] = [];

  beforeAll(async () => {
    cluster = await Cluster.start();
  }, 90_000);

  afterAll(async () => {
    console.table(reports);
    await cluster?.stop();
  });

  /** A room whose two senders post through node 1 while two members watch from node 2. */
  async function loadedRoom(title: string) {
    const roomId = await cluster.createRoom(title, ['dave']);
    const senders = [cluster.member('alice', roomId), cluster.member('bob', roomId)];
    const watchers = [cluster.member('carol', roomId), cluster.member('dave', roomId)];
    for (const m of senders) await m.attach(cluster.nodes[0]!.url);
    for (const m of watchers) await m.attach(cluster.nodes[1]!.url);
    const load = new Load(senders);
    await until(() => load.acknowledged >= 40, 20_000, 'load running');
    return { senders, members: [...senders, ...watchers], load };
  }

  it('SIGKILL a node under load: its clients move to the other node, nothing lost or doubled', async () => {
    const { senders, members, load } = await loadedRoom('Node killed');
    const [node1, node2] = cluster.nodes;
    await node1!.stop('SIGKILL');
    // A load balancer sends the reconnecting clients to the surviving node.
    await until(() => senders.every((m) => !m.connected), 10_000, 'clients noticing the dead node');
    const recovered = Date.now();
    for (const m of senders) await m.attach(node2!.url);
    await until(() => load.acknowledged >= 80, 20_000, 'load continuing on node 2');
    await load.stop();
    const report = await settle('node SIGKILL', senders, members, recovered);
    reports.push(report);
    expect(report).toMatchObject({ lost: 0, duplicates: 0 });
    members.forEach((m) => m.detach());
    cluster.nodes[0] = await cluster.startNode();
  }, 120_000);

  it('SIGKILL the store under load and restart it: acknowledged events survive, retries apply once', async () => {
    const { senders, members, load } = await loadedRoom('Store killed');
    await cluster.store.stop('SIGKILL');
    const acknowledgedBefore = load.acknowledged;
    await new Promise((r) => setTimeout(r, 1_000));
    await cluster.startStore();
    const recovered = Date.now();
    await until(
      () => load.acknowledged >= acknowledgedBefore + 40,
      30_000,
      'load continuing after the restart',
    );
    await load.stop();
    const report = await settle('store SIGKILL + restart', senders, members, recovered);
    reports.push(report);
    expect(report).toMatchObject({ lost: 0, duplicates: 0 });
    // The nodes are healthy again.
    for (const node of cluster.nodes) expect((await request(node.url, 'GET', '/readyz')).status).toBe(200);
    members.forEach((m) => m.detach());
  }, 120_000);

  it('stop and start Redis under load: members fill the gaps by seq', async () => {
    const { senders, members, load } = await loadedRoom('Redis restarted');
    const [, node2] = cluster.nodes;
    await cluster.redis.stop();
    const during = load.acknowledged;
    await until(() => load.acknowledged >= during + 20, 20_000, 'commands acknowledged while Redis is away');
    await cluster.redis.start();
    const recovered = Date.now();
    await until(
      async () => (await request(node2!.url, 'GET', '/readyz')).status === 200,
      20_000,
      'node 2 ready again',
    );
    await until(() => load.acknowledged >= during + 60, 20_000, 'load after Redis is back');
    await load.stop();
    const report = await settle('redis stop + start', senders, members, recovered);
    reports.push(report);
    expect(report).toMatchObject({ lost: 0, duplicates: 0 });
    members.forEach((m) => m.detach());
  }, 120_000);
});
