/**
 * The scheduler's time rules with periods of seconds: auto-release when the review window closes
 * (`milestone.released` with data.auto true), the status-report reminder, the inactivity reminders
 * and close, and the feedback reveal — each exactly once, with one server and with two server
 * processes sharing one store (each holding a scheduler; the lease and the room's seq arbitrate).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../server/application/evidence.js';
import type { StoredEvent } from '../../shared/domain/index.js';
import {
  spawnServer,
  spawnStore,
  startTestServer,
  tempDir,
  type ChildServer,
  type TestServer,
} from '../support/server.js';
import {
  allEvents,
  command,
  countByType,
  createRoom,
  eventually,
  expectContiguous,
  hire,
  seededTokens,
  type Tokens,
} from './helpers.js';

const PERIODS = {
  REVIEW_WINDOW_SECONDS: '2',
  FEEDBACK_WINDOW_SECONDS: '2',
  STATUS_REPORT_PERIOD_SECONDS: '3',
  INACTIVITY_REMINDERS_SECONDS: '1,2',
  INACTIVITY_CLOSE_SECONDS: '4',
  SCHEDULER_INTERVAL_MS: '200',
};

interface Rooms {
  idle: string;
  feedback: string;
  released: string;
}

/**
 * Three rooms, their commands spread over the given servers:
 * - idle: hired, m1 funded and submitted, then silence → auto-release, 2 inactivity reminders,
 *   a status-report reminder, the close for inactivity, and later the (empty) feedback reveal;
 * - feedback: ended by alice, who leaves feedback → revealed when the window closes;
 * - released: m1 released by alice right after the submission → never auto-released.
 */
async function arrange(urls: string[], tokens: Tokens): Promise<Rooms> {
  const at = (i: number) => urls[i % urls.length]!;
  const idle = (await createRoom(at(0), tokens.alice, { title: 'Idle contract', freelancerId: 'bob' })).id;
  const feedback = (await createRoom(at(1), tokens.alice, { title: 'Ended contract', freelancerId: 'erin' }))
    .id;
  const released = (
    await createRoom(at(0), tokens.alice, { title: 'Released contract', freelancerId: 'erin' })
  ).id;

  await hire(at(1), tokens, feedback, 'erin');
  await command(at(0), tokens.alice, feedback, { type: 'contract.end', reason: 'done early' });
  await command(at(1), tokens.alice, feedback, {
    type: 'feedback.submit',
    public: { rating: 4, comment: 'Good start' },
    private: { score: 7 },
  });

  await hire(at(0), tokens, released, 'erin');
  await command(at(1), tokens.alice, released, { type: 'milestone.fund', milestoneId: 'm1' });
  await command(at(0), tokens.erin, released, { type: 'milestone.submit', milestoneId: 'm1', note: 'here' });
  await command(at(1), tokens.alice, released, { type: 'milestone.release', milestoneId: 'm1' });

  await hire(at(1), tokens, idle, 'bob');
  await command(at(0), tokens.alice, idle, { type: 'milestone.fund', milestoneId: 'm1' });
  await command(at(1), tokens.bob, idle, { type: 'milestone.submit', milestoneId: 'm1', note: 'delivered' });
  return { idle, feedback, released };
}

/**
 * The whole log: what the client sees joined with what the freelancer sees (reminders and private
 * feedback are addressed to one side or one user).
 */
async function fullLog(
  url: string,
  tokens: Tokens,
  roomId: string,
  freelancer: 'bob' | 'erin',
): Promise<StoredEvent[]> {
  const bySeq = new Map<number, StoredEvent>();
  for (const e of await allEvents(url, tokens.alice, roomId)) bySeq.set(e.seq, e);
  for (const e of await allEvents(url, tokens[freelancer], roomId)) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** Waits until every rule has fired, then a little longer, so a second firing would show. */
async function settle(
  url: string,
  tokens: Tokens,
  rooms: Rooms,
): Promise<Record<keyof Rooms, StoredEvent[]>> {
  const revealed = async (id: string) =>
    (await allEvents(url, tokens.alice, id)).some((e) => e.type === 'feedback.revealed') ? true : undefined;
  await eventually(() => revealed(rooms.idle), 25_000, 'the idle room to close and reveal');
  await eventually(() => revealed(rooms.feedback), 10_000, 'the feedback reveal');
  // Ten scheduler intervals more: nothing may fire again.
  await new Promise((r) => setTimeout(r, 2_000));
  return {
    idle: await fullLog(url, tokens, rooms.idle, 'bob'),
    feedback: await fullLog(url, tokens, rooms.feedback, 'erin'),
    released: await fullLog(url, tokens, rooms.released, 'erin'),
  };
}

function expectRulesFiredOnce(logs: Record<keyof Rooms, StoredEvent[]>, rooms: Rooms): void {
  for (const key of Object.keys(rooms) as Array<keyof Rooms>) {
    expectContiguous(logs[key]);
    expect(verifyChain(rooms[key], logs[key]).ok).toBe(true);
  }
  const system = (events: StoredEvent[]) => events.filter((e) => e.actor.id === 'system');

  // The idle room: every rule once, by the system.
  const idle = system(logs.idle);
  expect(countByType(idle)).toEqual({
    'milestone.released': 1,
    'reminder.inactivity': 2,
    'reminder.statusReport': 1,
    'contract.ended': 1,
    'feedback.revealed': 1,
  });
  expect(idle.find((e) => e.type === 'milestone.released')!.data).toMatchObject({
    milestoneId: 'm1',
    auto: true,
  });
  expect(
    idle
      .filter((e) => e.type === 'reminder.inactivity')
      .map((e) => (e.data as { reminder: number }).reminder),
  ).toEqual([1, 2]);
  expect(idle.find((e) => e.type === 'reminder.statusReport')!.data).toMatchObject({ period: 1 });
  expect(idle.find((e) => e.type === 'contract.ended')!.data).toEqual({ by: 'system', reason: 'inactivity' });
  expect(idle.find((e) => e.type === 'feedback.revealed')!.data).toEqual({
    client: null,
    freelancer: null,
    auto: true,
  });
  // Released before the close, revealed after it.
  const order = idle.map((e) => e.type);
  expect(order.indexOf('milestone.released')).toBeLessThan(order.indexOf('contract.ended'));
  expect(order.indexOf('contract.ended')).toBeLessThan(order.indexOf('feedback.revealed'));
  expect(logs.idle.at(-1)!.type).toBe('feedback.revealed');

  // The ended room: only the reveal, with alice's public feedback.
  const feedback = system(logs.feedback);
  expect(feedback.map((e) => e.type)).toEqual(['feedback.revealed']);
  expect(feedback[0]!.data).toEqual({
    client: { rating: 4, comment: 'Good start' },
    freelancer: null,
    auto: true,
  });

  // The released room: no auto-release of a milestone alice released herself.
  const releases = logs.released.filter((e) => e.type === 'milestone.released');
  expect(releases).toHaveLength(1);
  expect(releases[0]!.data).toMatchObject({ auto: false });
  expect(releases[0]!.actor.id).toBe('alice');
  expect(countByType(system(logs.released))).toMatchObject({ 'contract.ended': 1, 'feedback.revealed': 1 });
}

describe('one server', () => {
  let server: TestServer;
  let tokens: Tokens;
  beforeAll(async () => {
    server = await startTestServer(PERIODS);
    tokens = await seededTokens(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('every rule fires exactly once', async () => {
    const rooms = await arrange([server.url], tokens);
    const logs = await settle(server.url, tokens, rooms);
    expectRulesFiredOnce(logs, rooms);
  }, 45_000);
});

describe('two server processes sharing one store', () => {
  const data = tempDir('workroom-scheduler-');
  const children: ChildServer[] = [];
  let urls: string[];
  let tokens: Tokens;

  beforeAll(async () => {
    const store = await spawnStore({ DB_PORT: '0', DATA_DIR: data.dir });
    children.push(store);
    const uri = `${/^mongodb:\/\/[^/]+/.exec(store.url)![0]}/workroom`;
    const servers = await Promise.all(
      [0, 1].map(() => spawnServer({ ...PERIODS, MONGODB_URI: uri, PORT: '0' })),
    );
    children.push(...servers);
    urls = servers.map((s) => s.url);
    tokens = await seededTokens(urls[0]!);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(
      children
        .splice(0)
        .reverse()
        .map((c) => c.stop('SIGTERM')),
    );
    data.remove();
  });

  it('every rule fires exactly once, whichever process holds the lease', async () => {
    const rooms = await arrange(urls, tokens);
    const logs = await settle(urls[1]!, tokens, rooms);
    expectRulesFiredOnce(logs, rooms);
    // Both processes serve the same log.
    expect(await fullLog(urls[0]!, tokens, rooms.idle, 'bob')).toEqual(logs.idle);
  }, 45_000);
});
