import { parentPort, workerData } from 'node:worker_threads';
import { startEmbeddedMongo, type EmbeddedMongoOptions } from './index.js';
import type { ThreadReport } from './thread.js';

/** The body of the store's thread (see thread.ts): start, report, close when asked. */
const port = parentPort!;
const report = (r: ThreadReport): void => port.postMessage(r);

try {
  const store = await startEmbeddedMongo({
    ...(workerData as Omit<EmbeddedMongoOptions, 'log'>),
    log: (msg, fields) => report({ kind: 'log', msg, ...(fields ? { fields } : {}) }),
  });
  report({ kind: 'ready', uri: store.uri, port: store.port });
  port.on('message', (message: unknown) => {
    if (message !== 'close') return;
    // Closing the port ends the thread; the parent waits for that exit.
    void store.close().finally(() => port.close());
  });
} catch (err) {
  report({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
  port.close();
}
