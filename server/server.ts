import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { connectStore } from './store/connection.js';
import { createHttpApp } from './transport/http/app.js';

export interface RunningServer {
  url: string;
  port: number;
  /** The MongoDB URI in use; with the embedded store, other server processes can share it. */
  storeUri: string;
  close(): Promise<void>;
}

// The built browser app: dist/client, whether this file runs built (dist/server) or from source.
const CLIENT_DIR = fileURLToPath(
  new URL(import.meta.url.includes('/dist/server/') ? '../client/' : '../dist/client/', import.meta.url),
);

/** The composition root: store, application services, HTTP and realtime transports. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const store = await connectStore(config, logger);
  const api = express.Router();
  const app = createHttpApp({
    logger,
    corsOrigins: config.corsOrigins,
    readinessChecks: { mongodb: () => store.ping() },
    api,
    clientDir: CLIENT_DIR,
  });
  const http = createServer(app);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    storeUri: store.uri,
    async close() {
      // Stop taking new connections, let in-flight requests finish, then close the store.
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeIdleConnections();
      });
      await store.close();
    },
  };
}
