/**
 * `npm run bench`: what Workroom costs over a bare Socket.IO relay, on this machine, in one run.
 *
 *   npm run bench                      # delivery vs relay, 5,000 connects, 10,000-event catch-up, cross-node
 *   npm run bench -- --quick           # shorter steps, fewer rooms
 *   npm run bench -- --soak 600        # 10 minutes at a steady rate: memory and handles over time
 *
 * Delivery: rooms of 5 connections post message.post at stepped offered rates, against the real
 * server (embedded store) and against bench/relay.ts, one step of each in turn; the load runs in
 * processes of its own (bench/load.ts). Each load starts with an unreported warm-up step. Each
 * rate runs ROUNDS times on each target and counts with its median round, so one lucky or unlucky
 * step does not decide the result. The highest rate whose end-to-end p99 stays within 50 ms (with
 * nearly every command acknowledged) is compared between the two. Progress goes to stderr; a
 * table to stdout; JSON to bench/results/.
 *
 * Workroom runs with `npm start`'s defaults, from its TypeScript source (through tsx, as the relay
 * does; the compiled build measured the same): the embedded store, which acknowledges a write once
 * it is in its log file (fsynced within 100 ms). One more step at JOURNALED_RATE shows the cost of
 * acknowledging only after the fsync (MONGODB_WRITE_CONCERN=majority).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { LoadPlan, StepResult } from './load.js';
import { repoRoot, startRedis, startRelay, startStore, startWorkroom, type Target } from './servers.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const QUICK = flag('--quick');
const SOAK_SECONDS = value('--soak', 0);
const ROOMS = value('--rooms', QUICK ? 40 : 100);
const STEP_SECONDS = value('--step-seconds', QUICK ? 3 : 5);
/**
 * Steps per rate and target. A step's p99 is set by its worst moments, and on a shared host those
 * come and go: the same code met 50 ms at a rate in one step and missed it in the next. The median
 * of three rounds is what a rate reliably gives.
 */
const ROUNDS = value('--rounds', QUICK ? 1 : 3);
// Stepped until a step is far past the goal (see gaveUp): past the end of the list, in steps of
// RATE_STEP_AFTER, so neither target is capped by the list.
const RATES = QUICK
  ? [250, 500, 1000, 2000, 3000, 4000]
  : [250, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000, 5500, 6000, 7000, 8000, 9000, 10000];
const RATE_STEP_AFTER = 2000;
/** A bound on the run's length should a target never saturate. */
const MAX_RATE = 40_000;
/** The rate at which acknowledging after the fsync (write concern majority) is compared with the default. */
const JOURNALED_RATE = 1000;
const P99_GOAL_MS = 50;
const GIVE_UP_P99_MS = 250;

const progress = (line: string) => process.stderr.write(`${line}\n`);

/** A load generator process (bench/load.ts) with its rooms set up against one target, stepped from here. */
class LoadSession {
  private readonly results: AsyncIterator<string>;

  private constructor(private readonly child: ChildProcess) {
    this.results = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  static async start(plan: LoadPlan): Promise<LoadSession> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'bench/load.ts'), JSON.stringify(plan)],
      {
        cwd: repoRoot,
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const session = new LoadSession(child);
    if ((await session.next()) !== 'ready') throw new Error('the load generator did not set up');
    return session;
  }

  async step(rate: number): Promise<StepResult> {
    this.child.stdin!.write(`${rate}\n`);
    return JSON.parse(await this.next()) as StepResult;
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end();
    await exited;
  }

  private async next(): Promise<string> {
    const line = await this.results.next();
    if (line.done) throw new Error('the load generator exited');
    return line.value;
  }
}

/** Runs the steps in order on a fresh load generator. */
async function runLoad(plan: LoadPlan, rates: number[]): Promise<StepResult[]> {
  const session = await LoadSession.start(plan);
  const steps: StepResult[] = [];
  for (const rate of rates) steps.push(await session.step(rate));
  await session.close();
  return steps;
}

/** The offered rates in order: the list, then on past its end. */
function* offeredRates(): Generator<number> {
  yield* RATES;
  for (let rate = RATES.at(-1)! + RATE_STEP_AFTER; rate <= MAX_RATE; rate += RATE_STEP_AFTER) yield rate;
}

/** A rate's result on one target: its median round (by e2e p99), with every round kept. */
interface RateResult extends StepResult {
  rounds: StepResult[];
}

function medianRound(rounds: StepResult[]): RateResult {
  const byP99 = [...rounds].sort((a, b) => p99OrInfinity(a) - p99OrInfinity(b));
  return { ...byP99[Math.floor((byP99.length - 1) / 2)]!, rounds };
}

const p99OrInfinity = (s: StepResult) => (Number.isFinite(s.e2eP99) ? s.e2eP99 : Infinity);

/** A step far past the goal: the target is saturated, and higher rates tell nothing more. */
function gaveUp(step: StepResult): boolean {
  return !(step.e2eP99 <= GIVE_UP_P99_MS) || step.acked < step.sent * 0.9;
}

/** The best step that met the goal: p99 within 50 ms and at least 97% of commands acknowledged. */
function bestWithinGoal(steps: StepResult[]): StepResult | undefined {
  return steps
    .filter((s) => s.e2eP99 <= P99_GOAL_MS && s.acked >= s.sent * 0.97)
    .sort((a, b) => b.deliveredPerSecond - a.deliveredPerSecond)[0];
}

/**
 * Delivery against both targets, their steps alternating (relay at a rate, then Workroom at the
 * same rate, ROUNDS times): a machine whose speed drifts during the run (a shared host does) then
 * weighs on both alike, rather than on whichever ran in the slower minutes.
 */
async function delivery(targets: Array<{ target: Target; kind: LoadPlan['kind'] }>): Promise<RateResult[][]> {
  const sessions: LoadSession[] = [];
  for (const { target, kind } of targets) {
    progress(`  delivery: setting up ${ROOMS} rooms of 5 connections on ${target.name}`);
    sessions.push(
      await LoadSession.start({
        kind,
        urls: [target.url],
        serverPids: [target.pid],
        rooms: ROOMS,
        stepSeconds: STEP_SECONDS,
      }),
    );
  }
  const steps: RateResult[][] = targets.map(() => []);
  for (const rate of offeredRates()) {
    const running = sessions.map((_, i) => i).filter((i) => !steps[i]!.some(gaveUp));
    if (running.length === 0) break;
    const rounds: StepResult[][] = targets.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const i of running) rounds[i]!.push(await sessions[i]!.step(rate));
    }
    for (const i of running) steps[i]!.push(medianRound(rounds[i]!));
  }
  await Promise.all(sessions.map((s) => s.close()));
  return steps;
}

async function connectMany(target: Target, count: number): Promise<number> {
  progress(`  connecting ${count} sockets to ${target.name}`);
  const token = await target.token('erin');
  const started = performance.now();
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 250) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(250, count - i) }, () => {
        const s = io(target.url, {
          auth: { token },
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
        });
        return new Promise<Socket>((ok, fail) => {
          s.once('connect', () => ok(s));
          s.once('connect_error', fail);
        });
      }),
    );
    sockets.push(...batch);
    if ((i / 250) % 4 === 3) progress(`    ${sockets.length} connected`);
  }
  const ms = performance.now() - started;
  sockets.forEach((s) => s.close());
  return ms;
}

async function catchUp(
  target: Target,
  events: number,
): Promise<{ appendMs: number; joinMs: number; received: number }> {
  progress(`  catch-up: appending ${events} events to one room`);
  const alice = await target.token('alice');
  const res = await fetch(`${target.url}/api/rooms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
    body: JSON.stringify({ title: 'Catch-up', freelancerId: 'bob' }),
  });
  const roomId = ((await res.json()) as { room: { id: string } }).room.id;
  const senders = await Promise.all(
    Array.from({ length: 32 }, () => {
      const s = io(target.url, {
        auth: { token: alice },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      });
      return new Promise<Socket>((ok) => s.once('connect', () => ok(s)));
    }),
  );
  const started = performance.now();
  let sent = 0;
  await Promise.all(
    senders.map(async (s) => {
      while (sent < events - 1) {
        sent++;
        await s.emitWithAck('room:command', {
          roomId,
          clientId: randomUUID(),
          command: { type: 'message.post', text: `catch-up ${sent}` },
        });
      }
    }),
  );
  const appendMs = performance.now() - started;
  const reader = senders[0]!;
  const joinStarted = performance.now();
  const ack = (await reader.timeout(60_000).emitWithAck('room:join', { roomId, since: 0 })) as {
    events: unknown[];
  };
  const joinMs = performance.now() - joinStarted;
  senders.forEach((s) => s.close());
  return { appendMs, joinMs, received: ack.events.length };
}

/** One delivery step on a server whose acknowledgements wait for the store's fsync. */
async function journaled(): Promise<StepResult> {
  progress(
    `  journaled: acknowledgements after the fsync (MONGODB_WRITE_CONCERN=majority), ${JOURNALED_RATE} msg/s`,
  );
  const target = await startWorkroom('on', { MONGODB_WRITE_CONCERN: 'majority' }, 'workroom journaled');
  try {
    const [step] = await runLoad(
      {
        kind: 'workroom',
        urls: [target.url],
        serverPids: [target.pid],
        rooms: ROOMS,
        stepSeconds: STEP_SECONDS,
      },
      [JOURNALED_RATE],
    );
    return step!;
  } finally {
    await target.stop();
  }
}

async function crossNode(): Promise<{ single: StepResult; cross: StepResult } | null> {
  const redis = await startRedis();
  if (!redis) {
    progress('  cross-node: SKIPPED, redis-server is not installed');
    return null;
  }
  progress('  cross-node: two nodes sharing a standalone store and Redis');
  const store = await startStore();
  // The same write concern as the single-node runs: this compares the fan-out, not the disk.
  const env = { MONGODB_URI: store.url, REDIS_URL: redis.url, MONGODB_WRITE_CONCERN: '1' };
  const nodes = await Promise.all([startWorkroom('on', env, 'node 1'), startWorkroom('on', env, 'node 2')]);
  try {
    const plan = { kind: 'workroom' as const, rooms: Math.min(ROOMS, 50), stepSeconds: STEP_SECONDS };
    const [single] = await runLoad({ ...plan, urls: [nodes[0]!.url], serverPids: [nodes[0]!.pid] }, [500]);
    const [cross] = await runLoad(
      { ...plan, urls: nodes.map((n) => n.url), serverPids: nodes.map((n) => n.pid) },
      [500],
    );
    return { single: single!, cross: cross! };
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await store.stop();
    await store.remove();
    await redis.stop();
  }
}

async function soak(seconds: number): Promise<StepResult[]> {
  const target = await startWorkroom('on');
  try {
    progress(`  soak: ${seconds} s at 500 msg/s over ${ROOMS} rooms; one sample every 10 s`);
    return await runLoad(
      { kind: 'workroom', urls: [target.url], serverPids: [target.pid], rooms: ROOMS, stepSeconds: 10 },
      Array.from({ length: Math.max(1, Math.round(seconds / 10)) }, () => 500),
    );
  } finally {
    await target.stop();
  }
}

const f = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

function stepTable(title: string, steps: RateResult[]): string {
  const rows = steps.map(
    (s) =>
      `| ${title} | ${s.offered} | ${f(s.deliveredPerSecond)} | ${f(s.ackP50, 1)} | ${f(s.ackP99, 1)} | ${f(s.e2eP50, 1)} | ${f(s.e2eP99, 1)} | ${s.rounds.map((r) => f(r.e2eP99)).join(' / ')} | ${f(s.serverCpuPercent)} | ${f(s.serverMainThreadCpuPercent)} | ${f(s.serverRssMiB)} | ${f(s.loadCpuPercent)} | ${f(s.stealPercent)} |`,
  );
  return rows.join('\n');
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
  };
  const lines: string[] = [];
  if (SOAK_SECONDS > 0) {
    const samples = await soak(SOAK_SECONDS);
    results.soak = samples;
    lines.push(
      '| t (s) | delivered/s | e2e p99 ms | server CPU % | server RSS MiB | server handles | host steal % |',
      '|---|---|---|---|---|---|---|',
    );
    samples.forEach((s, i) =>
      lines.push(
        `| ${(i + 1) * 10} | ${f(s.deliveredPerSecond)} | ${f(s.e2eP99, 1)} | ${f(s.serverCpuPercent)} | ${f(s.serverRssMiB)} | ${s.serverHandles} | ${f(s.stealPercent)} |`,
      ),
    );
  } else {
    const relay = await startRelay();
    const workroom = await startWorkroom('on', {}, 'workroom');
    const [relaySteps = [], ourSteps = []] = await delivery([
      { target: relay, kind: 'relay' },
      { target: workroom, kind: 'workroom' },
    ]);
    const relayConnect = await connectMany(relay, 5_000);
    await relay.stop();

    const ourConnect = await connectMany(workroom, 5_000);
    const catchup = await catchUp(workroom, 10_000);
    await workroom.stop();
    const fsynced = await journaled();
    const nodes = await crossNode();

    const ours = bestWithinGoal(ourSteps);
    const bare = bestWithinGoal(relaySteps);
    const ratio = ours && bare ? ours.deliveredPerSecond / bare.deliveredPerSecond : Number.NaN;
    const atJournaledRate = ourSteps.find((s) => s.offered === JOURNALED_RATE);
    Object.assign(results, {
      relaySteps,
      ourSteps,
      ours,
      bare,
      ratio,
      ourConnect,
      relayConnect,
      catchup,
      journaled: fsynced,
      nodes,
    });

    lines.push(
      `Delivery (${ROOMS} rooms × 5 connections, ${STEP_SECONDS} s steps, the median of ${ROUNDS} round${ROUNDS === 1 ? '' : 's'} per rate):`,
      '',
      '| target | offered msg/s | delivered events/s | ack p50 | ack p99 | e2e p50 | e2e p99 | e2e p99 of each round | server CPU % | server main thread CPU % | server RSS MiB | load generator CPU % | host steal % |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      stepTable('bare relay', relaySteps),
      stepTable('workroom', ourSteps),
      '',
      `Highest delivered events/s with e2e p99 ≤ ${P99_GOAL_MS} ms: workroom ${f(ours?.deliveredPerSecond ?? Number.NaN)} ` +
        `(at ${ours?.offered ?? '—'} msg/s), bare relay ${f(bare?.deliveredPerSecond ?? Number.NaN)} (at ${bare?.offered ?? '—'} msg/s): ` +
        // Three decimals: rounded to two, 0.496 would read as the goal of 0.5 met.
        `ratio ${f(ratio, 3)}`,
      '',
      '| measure | workroom | bare relay |',
      '|---|---|---|',
      `| connect 5,000 sockets | ${f(ourConnect)} ms | ${f(relayConnect)} ms |`,
      `| append 10,000 events to one room (32 senders) | ${f(catchup.appendMs)} ms | — |`,
      `| catch up 10,000 events (room:join since 0) | ${f(catchup.joinMs)} ms (${catchup.received} events) | — |`,
      `| e2e p50 / p99 at ${JOURNALED_RATE} msg/s, acknowledged after the fsync (MONGODB_WRITE_CONCERN=majority) | ` +
        `${f(fsynced.e2eP50, 1)} ms / ${f(fsynced.e2eP99, 1)} ms (default: ${f(atJournaledRate?.e2eP50 ?? Number.NaN, 1)} ms / ${f(atJournaledRate?.e2eP99 ?? Number.NaN, 1)} ms) | — |`,
      nodes
        ? `| e2e p99 at 500 msg/s: one node / two nodes via Redis | ${f(nodes.single.e2eP99, 1)} ms / ${f(nodes.cross.e2eP99, 1)} ms | — |`
        : '| cross-node | skipped (no redis-server) | — |',
    );
  }
  const table = lines.join('\n');
  console.log(`\n${table}\n`);
  const dir = join(repoRoot, 'bench/results');
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, SOAK_SECONDS ? 'soak.json' : 'bench.json'),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  await writeFile(join(dir, SOAK_SECONDS ? 'soak.md' : 'bench.md'), `${table}\n`);
  console.log(`JSON and table in ${dir}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
