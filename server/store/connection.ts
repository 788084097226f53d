import mongoose, { type Connection } from 'mongoose';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { startEmbeddedMongo, type EmbeddedMongo } from '../embedded-mongo/index.js';

// Filters built from request data can never smuggle in query operators, and unknown filter
// keys are an error rather than silently dropped.
mongoose.set('sanitizeFilter', true);
mongoose.set('strictQuery', 'throw');

export interface StoreConnection {
  connection: Connection;
  /** The URI other processes can share (the embedded store's, when this process started it). */
  uri: string;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Connects to MongoDB: the configured server, or an embedded store started in this process
 * with its data in DATA_DIR, so a bare machine needs nothing installed.
 */
export async function connectStore(config: Config, logger: Logger): Promise<StoreConnection> {
  let embedded: EmbeddedMongo | undefined;
  let uri = config.mongodbUri;
  if (!uri) {
    embedded = await startEmbeddedMongo({
      port: 0,
      dataDir: config.dataDir,
      log: (msg, fields) => logger.info({ store: 'embedded', ...fields }, msg),
    });
    uri = `${embedded.uri}/workroom`;
    logger.info({ uri, dataDir: config.dataDir }, 'embedded MongoDB-compatible store started');
  }
  const connection = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: 10_000,
    // The embedded store is a standalone that has no majority to wait for.
    writeConcern: { w: embedded ? 1 : config.writeConcern },
    maxPoolSize: 50,
  });
  await connection.asPromise();
  return {
    connection,
    uri,
    async ping() {
      try {
        await connection.db?.admin().ping();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await connection.close();
      await embedded?.close();
    },
  };
}
