/**
 * The load generator of `npm run bench`, run as its own process so that it does not share an
 * event loop with the server it measures. Rooms of five connections (three on the client side,
 * two on the freelancer side) post `message.post` at offered rates; every connection receives
 * every message. Reports, per step: delivered events/s, ack and end-to-end latency, and the
 * server's CPU and memory (read from /proc).
 *
 * Input: the plan as one JSON argument, then one offered rate per line on stdin, each run as a
 * step when it arrives (so bench/run.ts can alternate the steps of two targets). Output: a line
 * `ready` once the rooms are set up and warmed up, then one JSON line per step.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { io, type Socket } from 'socket.io-client';

export interface LoadPlan {
  kind: 'workroom' | 'relay';
  /** One URL, or several (nodes behind Redis): connections are spread over them. */
  urls: string[];
  serverPids: number[];
  rooms: number;
  stepSeconds: number;
}

export interface StepResult {
  offered: number;
  sent: number;
  acked: number;
  deliveredPerSecond: number;
  ackP50: number;
  ackP99: number;
  e2eP50: number;
  e2eP99: number;
  serverCpuPercent: number;
  /** The servers' main threads alone (their event loops): near 100% means the loop is what saturates. */
  serverMainThreadCpuPercent: number;
  serverRssMiB: number;
  /** Open file descriptors (sockets, files) of the server processes: a leak shows here. */
  serverHandles: number;
  /** This load generator's own CPU: near 100% means the step measured the generator, not the target. */
  loadCpuPercent: number;
  /**
   * CPU the hypervisor gave to other guests while this machine's threads were ready to run (steal
   * time, in % of one core): a step with more than a few % measured the host's neighbours too.
   */
  stealPercent: number;
}

const plan = JSON.parse(process.argv[2] ?? '{}') as LoadPlan;
const progress = (line: string) => process.stderr.write(`${line}\n`);

type AnySocket = Socket;

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** CPU ticks (1/100 s) of a process, or with `thread` of one of its threads. */
function cpuTicks(pid: number, thread?: number): number {
  const stat = readFileSync(
    thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`,
    'utf8',
  );
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** A process's main thread has the process's id. */
const mainThreadTicks = (pid: number) => cpuTicks(pid, pid);

/** The machine's steal time (a virtual machine's CPU taken by its host), in ticks summed over its cores. */
function stealTicks(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
  return Number(cpu[8] ?? 0);
}

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

async function post(
  url: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<Record<string, unknown>> {
  const res = await fetch(url + path, {
    method: path === '/api/rooms' && body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await res.json()) as Record<string, unknown>;
}

async function connect(url: string, token: string): Promise<AnySocket> {
  const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((ok, fail) => {
    socket.once('connect', () => ok());
    socket.once('connect_error', fail);
  });
  return socket;
}

/** The members of each room: alice twice and dave (client side), bob and carol (freelancer side). */
const MEMBERS = ['alice', 'alice', 'dave', 'bob', 'carol'];

async function setUp(): Promise<{ roomIds: string[]; sockets: AnySocket[][] }> {
  const url = plan.urls[0]!;
  const tokens: Record<string, string> = {};
  for (const user of new Set(MEMBERS)) {
    tokens[user] =
      plan.kind === 'workroom' ? String((await post(url, '/api/dev/token', { userId: user })).token) : user;
    // Seen once, so bob's rooms belong to his agency and carol is a party of them.
    if (plan.kind === 'workroom') await post(url, '/api/rooms', undefined, tokens[user]);
  }
  const roomIds: string[] = [];
  for (let r = 0; r < plan.rooms; r++) {
    if (plan.kind === 'relay') roomIds.push(`room-${r}`);
    else {
      const reply = await post(
        url,
        '/api/rooms',
        { title: `Bench ${r}`, freelancerId: 'bob', interviewerIds: ['dave'] },
        tokens.alice,
      );
      roomIds.push((reply.room as { id: string }).id);
    }
  }
  const sockets: AnySocket[][] = [];
  let n = 0;
  for (const roomId of roomIds) {
    const members: AnySocket[] = [];
    for (const user of MEMBERS) {
      const socket = await connect(plan.urls[n++ % plan.urls.length]!, tokens[user]!);
      const ack = (await socket.timeout(10_000).emitWithAck('room:join', { roomId })) as { ok: boolean };
      if (!ack.ok) throw new Error(`join failed: ${JSON.stringify(ack)}`);
      members.push(socket);
    }
    sockets.push(members);
  }
  return { roomIds, sockets };
}

/** A measure of one server process, summed over the servers (nodes behind Redis count together). */
const overServers = (measure: (pid: number) => number) =>
  plan.serverPids.reduce((total, pid) => total + measure(pid), 0);

async function runStep(rate: number, roomIds: string[], sockets: AnySocket[][]): Promise<StepResult> {
  const sentAt = new Map<string, number>();
  const senderOf = new Map<string, AnySocket>();
  const ackMs: number[] = [];
  const e2eMs: number[] = [];
  let delivered = 0;
  let sent = 0;
  let acked = 0;
  const onEvent = (socket: AnySocket) => (payload: { event: { data: { text?: string } } }) => {
    const id = payload.event.data.text ?? '';
    const at = sentAt.get(id);
    if (at === undefined) return;
    delivered++;
    if (senderOf.get(id) !== socket) e2eMs.push(performance.now() - at);
  };
  const listeners = sockets.flat().map((socket) => {
    const listener = onEvent(socket);
    socket.on('room:event', listener);
    return () => socket.off('room:event', listener);
  });

  const cpuBefore = overServers(cpuTicks);
  const mainBefore = overServers(mainThreadTicks);
  const loadCpuBefore = process.cpuUsage();
  const stealBefore = stealTicks();
  const started = performance.now();
  let owed = 0;
  let next = 0;
  await new Promise<void>((done) => {
    const tick = setInterval(() => {
      if (performance.now() - started >= plan.stepSeconds * 1000) {
        clearInterval(tick);
        done();
        return;
      }
      owed += rate / 100;
      for (; owed >= 1; owed--) {
        const room = next++ % roomIds.length;
        const members = sockets[room]!;
        const socket = members[Math.floor(next / roomIds.length) % members.length]!;
        const id = `m${randomUUID()}`;
        sentAt.set(id, performance.now());
        senderOf.set(id, socket);
        sent++;
        socket.emit(
          'room:command',
          { roomId: roomIds[room], clientId: randomUUID(), command: { type: 'message.post', text: id } },
          (ack: { ok: boolean }) => {
            if (ack.ok) {
              acked++;
              ackMs.push(performance.now() - sentAt.get(id)!);
            }
          },
        );
      }
    }, 10);
  });
  const elapsed = (performance.now() - started) / 1000;
  const cpuAfter = overServers(cpuTicks);
  const mainAfter = overServers(mainThreadTicks);
  const loadCpu = process.cpuUsage(loadCpuBefore);
  const steal = stealTicks() - stealBefore;
  // Clock ticks are 1/100 s, so ticks per second over the step is the % of one core they took.
  const percentOfCore = (ticks: number) => ticks / elapsed;
  // What is still in flight at the end of the step counts late, not never.
  await new Promise((r) => setTimeout(r, 1_000));
  listeners.forEach((off) => off());
  return {
    offered: rate,
    sent,
    acked,
    deliveredPerSecond: delivered / (elapsed + 1),
    ackP50: percentile(ackMs, 50),
    ackP99: percentile(ackMs, 99),
    e2eP50: percentile(e2eMs, 50),
    e2eP99: percentile(e2eMs, 99),
    serverCpuPercent: percentOfCore(cpuAfter - cpuBefore),
    serverMainThreadCpuPercent: percentOfCore(mainAfter - mainBefore),
    serverRssMiB: overServers(rssMiB),
    serverHandles: overServers((pid) => readdirSync(`/proc/${pid}/fd`).length),
    loadCpuPercent: ((loadCpu.user + loadCpu.system) / 1e6 / elapsed) * 100,
    stealPercent: percentOfCore(steal),
  };
}

async function main(): Promise<void> {
  const { roomIds, sockets } = await setUp();
  // Warm-up, not reported: both targets get the same, so neither is measured while compiling.
  await runStep(200, roomIds, sockets);
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const rate = Number(line);
    if (!(rate > 0)) throw new Error(`not an offered rate: ${line}`);
    const step = await runStep(rate, roomIds, sockets);
    progress(
      `    ${plan.kind} ${rate} msg/s offered: ${Math.round(step.deliveredPerSecond)} events/s delivered, ` +
        `ack p99 ${step.ackP99.toFixed(1)} ms, e2e p99 ${step.e2eP99.toFixed(1)} ms, CPU ${Math.round(step.serverCpuPercent)}% (main thread ${Math.round(step.serverMainThreadCpuPercent)}%, load generator ${Math.round(step.loadCpuPercent)}%), steal ${Math.round(step.stealPercent)}%`,
    );
    process.stdout.write(`${JSON.stringify(step)}\n`);
  }
  sockets.flat().forEach((s) => s.close());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
