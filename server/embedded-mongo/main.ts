import path from 'node:path';
import { heapGrowingPercentFrom, setHeapGrowth } from '../heap-growth.js';
import { startEmbeddedMongo } from './index.js';

/**
 * The store on its own (`npm run db`): DB_PORT (default 27017), DATA_DIR (default ./data) and,
 * as for the server, HEAP_GROWING_PERCENT (default 200).
 */
async function main(): Promise<void> {
  const port = Number(process.env.DB_PORT ?? '27017');
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`DB_PORT is not a port: ${process.env.DB_PORT ?? ''}`);
  setHeapGrowth(heapGrowingPercentFrom(process.env.HEAP_GROWING_PERCENT));
  const dataDir = path.resolve(process.env.DATA_DIR ?? './data');
  const log = (msg: string, fields?: object): void => {
    console.log(JSON.stringify({ time: new Date().toISOString(), msg, ...fields }));
  };
  const store = await startEmbeddedMongo({ port, dataDir, log });
  console.log(`embedded store ready: ${store.uri}/workroom (data in ${dataDir})`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log('stopping embedded store', { signal });
    store.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
