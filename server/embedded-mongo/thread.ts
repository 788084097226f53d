import { Worker } from 'node:worker_threads';
import type { EmbeddedMongo, EmbeddedMongoOptions } from './index.js';

/** What the store's thread tells the thread that started it. */
export type ThreadReport =
  | { kind: 'ready'; uri: string; port: number }
  | { kind: 'failed'; message: string }
  | { kind: 'log'; msg: string; fields?: object };

export type ThreadOptions = Omit<EmbeddedMongoOptions, 'log'> & {
  log?: (msg: string, fields?: object) => void;
  /** Called if the store's thread dies after it started: the process has lost its store. */
  onCrash?: (err: Error) => void;
};

/**
 * The store's young generation. Nearly everything the store allocates for a write is kept (the
 * document, its index entries), so each scavenge copies what survived since the last one: V8's
 * default lets the young generation grow to tens of MB, and then a scavenge holds every reply up
 * for 10 to 40 ms under load. A small one scavenges more often, a few ms each. A process-wide
 * --max-semi-space-size overrides this limit.
 */
const YOUNG_GENERATION_MB = 8;

/**
 * Starts the embedded store on a thread of its own. Its work (BSON, indexes, the log) then runs
 * beside the server's event loop instead of on it: socket traffic is not held up by a large
 * write, and a second core does the store's share. The driver reaches it over loopback TCP,
 * exactly as it would reach a separate mongod.
 */
export async function startEmbeddedMongoThread(options: ThreadOptions = {}): Promise<EmbeddedMongo> {
  const { log = () => {}, onCrash, ...storeOptions } = options;
  const flag = semiSpaceFlag([...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]);
  if (flag) {
    log(
      `${flag} overrides the store thread's ${YOUNG_GENERATION_MB} MB young generation: its pauses, and every reply, will be longer`,
      { flag },
    );
  }
  const [entry, entryOptions] = threadEntry();
  const worker = new Worker(entry, {
    ...entryOptions,
    workerData: storeOptions,
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
  let started = false;
  let closing = false;
  let crashed = false;
  const closed = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  const ready = await new Promise<{ uri: string; port: number }>((resolve, reject) => {
    // An uncaught error is followed by the exit: whichever comes first is the one reported.
    const fail = (err: Error): void => {
      if (!started) reject(err);
      else if (!closing && !crashed) {
        crashed = true;
        onCrash?.(err);
      }
    };
    worker.on('message', (report: ThreadReport) => {
      if (report.kind === 'log') log(report.msg, report.fields);
      else if (report.kind === 'ready') resolve(report);
      else if (report.kind === 'failed') reject(new Error(report.message));
    });
    worker.once('error', fail);
    worker.once('exit', (code) => fail(new Error(`the embedded store's thread exited with code ${code}`)));
  });
  started = true;

  return {
    ...ready,
    async close() {
      if (closing) return closed;
      closing = true;
      worker.postMessage('close');
      await closed;
    },
  };
}

/** A V8 flag among `args` that sizes every thread's young generation, the store's included. */
export function semiSpaceFlag(args: string[]): string | undefined {
  return args.find((arg) => /^--max[-_]semi[-_]space[-_]size(=|$)/.test(arg));
}

/**
 * The thread's entry: the compiled file, or, run from TypeScript sources (tsx, vitest), a small
 * script that loads the source through tsx (a thread does not inherit the parent's loader).
 */
function threadEntry(): [string | URL, { eval?: boolean }] {
  if (!import.meta.url.endsWith('.ts')) return [new URL('./thread-entry.js', import.meta.url), {}];
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./thread-entry.ts', import.meta.url).href;
  return [
    `import(${JSON.stringify(tsx)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`,
    { eval: true },
  ];
}
