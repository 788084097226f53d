import { expect } from 'vitest';
import { devToken, request } from './http.js';
import {
  freePort,
  spawnServer,
  spawnStore,
  startRedis,
  tempDir,
  type ChildServer,
  type RedisProcess,
} from './server.js';
import { RoomMember, until } from './socket-client.js';

/**
 * Two server processes sharing one standalone store and one real redis-server, as a deployment
 * behind a load balancer would run them; each piece can be killed and brought back.
 */
export class Cluster {
  readonly tokens: Record<string, string> = {};
  redis!: RedisProcess;
  store!: ChildServer;
  nodes: ChildServer[] = [];
  private readonly data = tempDir('workroom-cluster-');
  private storePort = 0;

  static async start(): Promise<Cluster> {
    const cluster = new Cluster();
    cluster.redis = await startRedis();
    cluster.storePort = await freePort();
    await cluster.startStore();
    cluster.nodes = await Promise.all([cluster.startNode(), cluster.startNode()]);
    for (const user of ['alice', 'bob', 'carol', 'dave']) {
      cluster.tokens[user] = await devToken(cluster.nodes[0]!.url, user);
      await request(cluster.nodes[0]!.url, 'GET', '/api/rooms', { token: cluster.tokens[user] });
    }
    return cluster;
  }

  get mongoUri(): string {
    return `mongodb://127.0.0.1:${this.storePort}/workroom`;
  }

  /** The store on a fixed port, so that a restarted store is found where the old one was. */
  async startStore(): Promise<void> {
    this.store = await spawnStore({ DB_PORT: String(this.storePort), DATA_DIR: this.data.dir });
  }

  startNode(): Promise<ChildServer> {
    return spawnServer({
      PORT: '0',
      MONGODB_URI: this.mongoUri,
      REDIS_URL: this.redis.url,
      RATE_LIMIT_COMMANDS: '0',
    });
  }

  async createRoom(title: string, interviewers: string[] = []): Promise<string> {
    const reply = await request<{ room: { id: string } }>(this.nodes[0]!.url, 'POST', '/api/rooms', {
      token: this.tokens.alice,
      body: { title, freelancerId: 'bob', interviewerIds: interviewers },
    });
    expect(reply.status).toBe(201);
    return reply.body.room.id;
  }

  member(user: string, roomId: string): RoomMember {
    return new RoomMember(user, this.tokens[user]!, roomId);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    await this.store?.stop();
    await this.redis?.stop();
    this.data.remove();
  }
}

export interface FaultReport {
  scenario: string;
  acknowledged: number;
  lost: number;
  duplicates: number;
  catchUpMs: number;
}

/**
 * Senders post numbered messages until told to stop, retrying each with its clientId across
 * reconnects, like a real client.
 */
export class Load {
  private running = true;
  private readonly loops: Promise<void>[];
  readonly texts: string[] = [];

  constructor(private readonly senders: RoomMember[]) {
    this.loops = senders.map(async (m) => {
      for (let i = 0; this.running; i++) {
        const text = `${m.name}-${i}`;
        this.texts.push(text);
        await m.send({ type: 'message.post', text });
      }
    });
  }

  get acknowledged(): number {
    return this.senders.reduce((n, m) => n + m.acked.size, 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/**
 * What every member holds after a fault: every acknowledged event (by the sender's ack seq and
 * text) is there exactly once, seqs are contiguous, and how long the slowest member took to
 * catch up from `since`.
 */
export async function settle(
  scenario: string,
  senders: RoomMember[],
  members: RoomMember[],
  since: number,
): Promise<FaultReport> {
  const acked = senders.flatMap((s) => [...s.acked.values()].map((seq) => ({ sender: s.name, seq })));
  const lastSeq = Math.max(...acked.map((a) => a.seq));
  for (const m of members) {
    await until(
      async () => {
        await m.resync();
        return m.lastSeq >= lastSeq;
      },
      30_000,
      `${m.name} catching up (has ${m.lastSeq}, needs ${lastSeq})`,
    );
  }
  const catchUpMs = Date.now() - since;
  let lost = 0;
  let duplicates = 0;
  for (const m of members) {
    const texts = m.events
      .filter((e) => e.type === 'message.posted')
      .map((e) => (e.data as { text: string }).text);
    const counts = new Map<string, number>();
    for (const t of texts) counts.set(t, (counts.get(t) ?? 0) + 1);
    duplicates += [...counts.values()].filter((c) => c > 1).length;
    for (const a of acked) if (m.events[a.seq - 1]?.actor.id !== a.sender) lost++;
    expect(
      m.events.map((e) => e.seq),
      `${m.name}'s seqs are contiguous`,
    ).toEqual(m.events.map((_, i) => i + 1));
  }
  const report = { scenario, acknowledged: acked.length, lost, duplicates, catchUpMs };
  console.log(`[fault] ${JSON.stringify(report)}`);
  return report;
}
