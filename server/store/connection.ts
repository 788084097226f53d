import { MongoClient, type MongoClientOptions } from 'mongodb';
import mongoose, { type Connection } from 'mongoose';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { EmbeddedMongo } from '../embedded-mongo/index.js';
import { startEmbeddedMongoThread } from '../embedded-mongo/thread.js';

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
 * Connects to MongoDB: the configured server, or an embedded store started on a thread of this
 * process with its data in DATA_DIR, so a bare machine needs nothing installed.
 */
export async function connectStore(config: Config, logger: Logger): Promise<StoreConnection> {
  let embedded: EmbeddedMongo | undefined;
  let uri = config.mongodbUri;
  if (!uri) {
    embedded = await startEmbeddedMongoThread({
      port: 0,
      dataDir: config.dataDir,
      log: (msg, fields) => logger.info({ store: 'embedded', ...fields }, msg),
      onCrash: (err) => {
        // Nothing can be kept any more: stop rather than accept commands that cannot be stored.
        logger.fatal({ err }, 'the embedded store stopped');
        process.exit(1);
      },
    });
    uri = `${embedded.uri}/workroom`;
    logger.info({ uri, dataDir: config.dataDir }, 'embedded MongoDB-compatible store started');
  }
  const options = {
    serverSelectionTimeoutMS: 10_000,
    // Notice a restarted or failed-over store within seconds rather than the driver's 30 s.
    connectTimeoutMS: 5_000,
    heartbeatFrequencyMS: 2_000,
    // MongoDB: a majority of the replica set. The embedded store (development and tests): a write
    // is acknowledged once it is in the store's log file, which no crash of a process can lose,
    // and fsynced within 100 ms; `majority` makes it wait for that fsync, at a cost in latency
    // that a virtual disk's occasional slow fsyncs make large.
    writeConcern: { w: config.writeConcern ?? (embedded ? 1 : 'majority') },
    maxPoolSize: 50,
    // Opened up front: a batch of commits goes out as two inserts at once, beside room updates and
    // reads, and a connection opened when load first needs it (a handshake while commits queue
    // behind it) shows as a spike.
    minPoolSize: 8,
  } as const;
  const connection = mongoose.createConnection(uri, options);
  await connection.asPromise();
  const watchdog = new StoreWatchdog(connection, uri, options, logger);
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
      watchdog.stop();
      await connection.close();
      await embedded?.close();
    },
  };
}

const WEDGED_AFTER_MS = 6_000;

/**
 * Logs when the store goes away and comes back, and recovers a driver that stays convinced the
 * store is unreachable after it is back: seen after a store was killed mid-write, when the
 * driver's monitor waited forever on a heartbeat. If the store answers a fresh client while this
 * connection still sees it as unknown, the connection is reopened.
 */
class StoreWatchdog {
  private unknownSince: number | null = null;
  private recovering = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly connection: Connection,
    private readonly uri: string,
    private readonly options: MongoClientOptions,
    private readonly logger: Logger,
  ) {
    this.watch();
    this.timer = setInterval(() => void this.check(), 2_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private watch(): void {
    this.connection.getClient().on('serverDescriptionChanged', (event) => {
      const was = event.previousDescription.type;
      const now = event.newDescription.type;
      if (was === now) return;
      if (now === 'Unknown') {
        this.unknownSince ??= Date.now();
        this.logger.warn(
          { address: event.address, error: event.newDescription.error?.message },
          'store unreachable',
        );
      } else {
        this.unknownSince = null;
        this.logger.info({ address: event.address, type: now }, 'store reachable');
      }
    });
  }

  private async check(): Promise<void> {
    if (this.recovering || this.unknownSince === null || Date.now() - this.unknownSince < WEDGED_AFTER_MS)
      return;
    this.recovering = true;
    const probe = new MongoClient(this.uri, { serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000 });
    try {
      await probe.db().command({ ping: 1 });
    } catch {
      return; // the store really is away; the driver will see it come back
    } finally {
      await probe.close().catch(() => undefined);
      this.recovering = false;
    }
    this.recovering = true;
    const wedged = this.connection.getClient();
    try {
      this.logger.error('the store answers but this connection does not see it; replacing its client');
      const fresh = new MongoClient(this.uri, this.options);
      await fresh.connect();
      this.connection.setClient(fresh);
      this.unknownSince = null;
      this.watch();
      this.logger.info('store connection replaced');
      void wedged.close(true).catch(() => undefined);
    } catch (err) {
      this.logger.error({ err }, 'store connection not replaced');
    } finally {
      this.recovering = false;
    }
  }
}
