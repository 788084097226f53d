/**
 * Command throughput of a Workroom server, measured from the outside:
 *
 *   npm run bench:commands                                   # 4,000 commands per run, 64 senders
 *   npm run bench:commands -- --commands 10000 --senders 128
 *
 * Starts the real server (server/main.ts, embedded store in a temp DATA_DIR) as a child process,
 * once with COMMIT_BATCHING=on and once with COMMIT_BATCHING=off, and drives `room:command`
 * (message.post) over Socket.IO websockets from many concurrent senders, each waiting for its ack
 * before sending the next (closed loop). Scenarios:
 *   - one-room:  every sender posts to the same room (commands of one room run one at a time);
 *   - 100-rooms: the senders' commands spread over 100 rooms.
 * Each run checks that the rooms' seq grew by exactly the number of acknowledged commands.
 * Progress lines go to stderr; a table at the end; JSON in bench/results/commands.json.
 *
 * Scenarios are separate functions over a `Target` (a URL that speaks the Workroom protocol), so
 * other targets (e.g. a bare Socket.IO relay) and scenarios can be added beside them.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import type { ErrorResponse } from '../shared/schemas/errors.js';
import type {
  ClientToServerEvents,
  RoomCommandAck,
  RoomJoinAck,
  ServerToClientEvents,
} from '../shared/schemas/socket.js';
import { repoRoot, startWorkroom, type Target } from './servers.js';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

const COMMANDS = argValue('--commands', 4_000);
const SENDERS = argValue('--senders', 64);
const ROOMS = argValue('--rooms', 100);

const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

// ---- Helpers shared by the scenarios ----

async function connect(url: string, token: string): Promise<ClientSocket> {
  const socket: ClientSocket = io(url, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  await new Promise<void>((ok, fail) => {
    socket.once('connect', () => ok());
    socket.once('connect_error', (err) => fail(err));
  });
  return socket;
}

function emitAck<E extends 'room:join' | 'room:command'>(
  socket: ClientSocket,
  event: E,
  payload: Parameters<ClientToServerEvents[E]>[0],
): Promise<(E extends 'room:join' ? RoomJoinAck : RoomCommandAck) | ErrorResponse> {
  return new Promise((ok) => {
    (socket.emit as (e: string, p: unknown, ack: (r: never) => void) => void)(event, payload, ok);
  });
}

async function createRooms(target: Target, token: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${target.url}/api/rooms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ title: `Bench room ${i}`, freelancerId: 'bob' }),
    });
    if (res.status !== 201) throw new Error(`room not created: ${res.status} ${await res.text()}`);
    ids.push(((await res.json()) as { room: { id: string } }).room.id);
  }
  return ids;
}

async function roomSeqs(target: Target, token: string): Promise<Map<string, number>> {
  const res = await fetch(`${target.url}/api/rooms`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { rooms: Array<{ id: string; seq: number }> };
  return new Map(body.rooms.map((r) => [r.id, r.seq]));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Result {
  target: string;
  scenario: string;
  rooms: number;
  senders: number;
  commands: number;
  errors: number;
  seconds: number;
  commandsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** The rooms' seq grew by exactly the number of acknowledged commands. */
  verified: boolean;
}

/**
 * Closed-loop load: `senders` sockets (alternately alice's and bob's), each joined to its rooms,
 * send message.post and wait for the ack until `total` commands have been sent.
 */
async function drive(
  target: Target,
  scenario: string,
  roomIds: string[],
  total: number,
  senders: number,
): Promise<Result> {
  const alice = await target.token('alice');
  const bob = await target.token('bob');
  const sockets: ClientSocket[] = [];
  const roomsOf: string[][] = [];
  for (let i = 0; i < senders; i++) {
    const socket = await connect(target.url, i % 2 ? bob : alice);
    const mine = roomIds.filter((_, r) => r % senders === i % roomIds.length || roomIds.length === 1);
    const assigned = mine.length > 0 ? mine : [roomIds[i % roomIds.length]!];
    for (const roomId of assigned) {
      const ack = await emitAck(socket, 'room:join', { roomId });
      if (!ack.ok) throw new Error(`join failed: ${JSON.stringify(ack)}`);
    }
    sockets.push(socket);
    roomsOf.push(assigned);
  }
  const before = await roomSeqs(target, alice);

  let sent = 0;
  let acked = 0;
  let errors = 0;
  const latencies: number[] = [];
  const started = performance.now();
  const ticker = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    progress(`  ${target.name} ${scenario}: ${fmt(acked)}/${fmt(total)} acked, ${fmt(acked / s)} commands/s`);
  }, 1_000);
  await Promise.all(
    sockets.map(async (socket, i) => {
      const rooms = roomsOf[i]!;
      let n = 0;
      while (sent < total) {
        sent++;
        const roomId = rooms[n++ % rooms.length]!;
        const t0 = performance.now();
        const ack = await emitAck(socket, 'room:command', {
          roomId,
          clientId: randomUUID(),
          command: { type: 'message.post', text: `bench message ${n} from sender ${i}` },
        });
        latencies.push(performance.now() - t0);
        if (ack.ok) acked++;
        else errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(ticker);
  for (const s of sockets) s.disconnect();

  const after = await roomSeqs(target, alice);
  let appended = 0;
  for (const id of roomIds) appended += (after.get(id) ?? 0) - (before.get(id) ?? 0);
  latencies.sort((a, b) => a - b);
  const result: Result = {
    target: target.name,
    scenario,
    rooms: roomIds.length,
    senders,
    commands: acked,
    errors,
    seconds: Math.round(seconds * 100) / 100,
    commandsPerSecond: Math.round(acked / seconds),
    latencyMs: {
      p50: Math.round(percentile(latencies, 50) * 10) / 10,
      p95: Math.round(percentile(latencies, 95) * 10) / 10,
      p99: Math.round(percentile(latencies, 99) * 10) / 10,
      max: Math.round((latencies.at(-1) ?? 0) * 10) / 10,
    },
    verified: appended === acked,
  };
  progress(
    `  ${target.name} ${scenario}: done, ${fmt(result.commandsPerSecond)} commands/s, ${errors} errors, verified=${result.verified}`,
  );
  return result;
}

// ---- Scenarios ----

export type Scenario = (target: Target) => Promise<Result>;

/** Every sender posts to one room: the per-room queue and the seq arbitration are the limit. */
export const oneRoom: Scenario = async (target) => {
  const [roomId] = await createRooms(target, await target.token('alice'), 1);
  return drive(target, 'one-room', [roomId!], COMMANDS, SENDERS);
};

/** The same load spread over many rooms: commits of different rooms can be written together. */
export const manyRooms: Scenario = async (target) => {
  const roomIds = await createRooms(target, await target.token('alice'), ROOMS);
  return drive(target, `${ROOMS}-rooms`, roomIds, COMMANDS, SENDERS);
};

const SCENARIOS: Scenario[] = [oneRoom, manyRooms];

// ---- Main ----

async function main(): Promise<void> {
  progress(
    `bench: ${fmt(COMMANDS)} message.post commands per run, ${SENDERS} concurrent senders (Socket.IO websocket)`,
  );
  const results: Result[] = [];
  for (const batching of ['on', 'off'] as const) {
    progress(`starting the server with COMMIT_BATCHING=${batching} …`);
    const target = await startWorkroom(batching);
    try {
      for (const scenario of SCENARIOS) results.push(await scenario(target));
    } finally {
      await target.stop();
    }
  }

  const header = [
    'target',
    'scenario',
    'senders',
    'commands',
    'errors',
    'commands/s',
    'p50 ms',
    'p99 ms',
    'verified',
  ];
  const rows = results.map((r) => [
    r.target,
    r.scenario,
    String(r.senders),
    fmt(r.commands),
    String(r.errors),
    fmt(r.commandsPerSecond),
    String(r.latencyMs.p50),
    String(r.latencyMs.p99),
    r.verified ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log();
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));

  const out = join(repoRoot, 'bench/results/commands.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(
    out,
    `${JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, commandsPerRun: COMMANDS, senders: SENDERS, results }, null, 2)}\n`,
  );
  console.log(`\nJSON: ${out}`);
  if (results.some((r) => !r.verified || r.errors > 0)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
