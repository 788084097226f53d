/**
 * Processes the benchmarks measure: the real server (with its embedded store, or sharing a store
 * and Redis with other nodes), the standalone store, a bare Socket.IO relay, and redis-server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasBinary, startRedis as startTestRedis, type RedisProcess } from '../tests/support/server.js';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..');

export interface Target {
  /** What is measured, e.g. "workroom batching=on". */
  name: string;
  url: string;
  pid: number;
  /** A bearer token for a user (the dev token endpoint of the Workroom server). */
  token(userId: string): Promise<string>;
  stop(): Promise<void>;
}

interface Child {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts a TypeScript entry (or a binary) and waits for the line that says where it listens. */
async function startChild(
  command: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<Child> {
  const child: ChildProcess = spawn(command, args, {
    cwd: repoRoot,
    env: { ...process.env, NODE_ENV: 'development', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      // Keep only the tail: servers log while the bench runs.
      output = (output + chunk.toString()).slice(-20_000);
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1] ?? '');
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`)));
  });
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

const tsEntry = (entry: string) => ['--import', 'tsx', join(repoRoot, entry)];
const LISTENING = /"url":"(http:\/\/[^"]+)"/;

async function devToken(url: string, userId: string): Promise<string> {
  const res = await fetch(`${url}/api/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  if (!res.ok) throw new Error(`no token for ${userId}: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

/**
 * The real server as a child process: with its own embedded store in a temp directory, or, when
 * `env` names a MONGODB_URI (and REDIS_URL), as one node of several.
 */
export async function startWorkroom(
  batching: 'on' | 'off',
  env: Record<string, string> = {},
  name?: string,
): Promise<Target> {
  const dataDir = await mkdtemp(join(os.tmpdir(), 'workroom-bench-'));
  const child = await startChild(
    process.execPath,
    tsEntry('server/main.ts'),
    {
      PORT: '0',
      DATA_DIR: dataDir,
      COMMIT_BATCHING: batching,
      RATE_LIMIT_COMMANDS: '0',
      MAX_CONNECTIONS_PER_USER: '10000',
      ...env,
    },
    LISTENING,
  );
  return {
    name: name ?? `workroom batching=${batching}`,
    url: child.url,
    pid: child.pid,
    token: (userId) => devToken(child.url, userId),
    async stop() {
      await child.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The bare Socket.IO relay (bench/relay.ts): broadcast and ack, nothing else. */
export async function startRelay(): Promise<Target> {
  const child = await startChild(process.execPath, tsEntry('bench/relay.ts'), { PORT: '0' }, LISTENING);
  return {
    name: 'bare relay',
    url: child.url,
    pid: child.pid,
    token: async (userId) => userId,
    stop: () => child.stop(),
  };
}

/** The standalone embedded store on a free port, for several nodes to share. */
export async function startStore(): Promise<Child & { remove(): Promise<void> }> {
  const dataDir = await mkdtemp(join(os.tmpdir(), 'workroom-bench-store-'));
  const child = await startChild(
    process.execPath,
    tsEntry('server/embedded-mongo/main.ts'),
    { DB_PORT: '0', DATA_DIR: dataDir },
    /(mongodb:\/\/[^\s"]+\/workroom)/,
  );
  return { ...child, remove: () => rm(dataDir, { recursive: true, force: true }) };
}

/** redis-server on a free loopback port without persistence (as the tests run it), or null when it is not installed. */
export async function startRedis(): Promise<RedisProcess | null> {
  return hasBinary('redis-server') ? startTestRedis() : null;
}
