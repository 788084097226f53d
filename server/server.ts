import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { Notifier } from './application/notifier.js';
import { RoomQueries } from './application/room-queries.js';
import { RoomService } from './application/room-service.js';
import { Scheduler } from './application/scheduler.js';
import { UserDirectory } from './application/user-directory.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { CommitWriter } from './store/commit-writer.js';
import { driverCollection } from './store/driver-collection.js';
import { connectRedis } from './store/redis.js';
import { connectStore } from './store/connection.js';
import { FileBucket } from './store/files-bucket.js';
import { createModels } from './store/models.js';
import { createHttpApp } from './transport/http/app.js';
import { authenticate } from './transport/http/authenticate.js';
import { fileRoutes } from './transport/http/files.js';
import { requestAllowance } from './transport/http/request-allowance.js';
import { apiRoutes, devTokenRoute } from './transport/http/routes.js';
import { Allowance } from './transport/allowance.js';
import { HistoryBudget } from './transport/history-budget.js';
import { memoryRateLimiter, redisRateLimiter } from './transport/rate-limit.js';
import { createRealtime } from './transport/socket/realtime.js';

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

/** The composition root: store → application services → HTTP and realtime transports. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const store = await connectStore(config, logger);
  const models = await createModels(store.connection);
  const writer = new CommitWriter(driverCollection(models.Commit), { batching: config.commitBatching });
  const rooms = new RoomService(models, writer, config.periods, logger);
  const users = new UserDirectory(models, rooms, logger);
  const queries = new RoomQueries(models, () => rooms.summariesWritten());
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, logger) : undefined;
  const scheduler = new Scheduler(models, rooms, config.schedulerIntervalMs, logger);
  const files = new FileBucket(store.connection.db!, logger);
  // Counted in Redis when there is one, so that a limit holds across nodes.
  const rateLimiter = (limit: number) =>
    redis ? redisRateLimiter(limit, redis.client) : memoryRateLimiter(limit);
  const commands = new Allowance(rateLimiter(config.rateLimitCommands), config.rateLimitCommands, 'commands');
  const reads = new Allowance(rateLimiter(config.rateLimitEvents), config.rateLimitEvents, 'requests');
  const history = new HistoryBudget(
    rateLimiter(config.rateLimitHistoryEvents),
    config.rateLimitHistoryEvents,
  );

  const api = express.Router();
  if (config.devTokens) api.use(devTokenRoute(config.jwt));
  api.use(
    authenticate(config.jwt, users),
    requestAllowance({ commands, reads }),
    apiRoutes(rooms, queries, history),
    fileRoutes(rooms, files, config.maxUploadBytes),
  );

  const app = createHttpApp({
    logger,
    corsOrigins: config.corsOrigins,
    readinessChecks: { mongodb: () => store.ping(), ...(redis ? { redis: () => redis.ping() } : {}) },
    api,
    clientDir: CLIENT_DIR,
  });
  const http = createServer(app);
  const realtime = createRealtime(http, {
    config,
    logger,
    rooms,
    queries,
    users,
    commands,
    history,
  });
  if (redis) {
    realtime.io.adapter(redis.adapter);
    rooms.shareAppends(redis.appends);
  }
  const notifier = new Notifier(models, realtime.deliverNotification, logger);
  rooms.onAppended((room, events) => void notifier.onAppended(room, events));
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  scheduler.start();

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    storeUri: store.uri,
    async close() {
      // Stop taking new work, finish what is in flight, then close the stores.
      await scheduler.stop();
      const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      await realtime.close();
      await httpClosed;
      await rooms.drain();
      await redis?.close();
      await store.close();
    },
  };
}
