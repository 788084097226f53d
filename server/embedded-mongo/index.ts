import net from 'node:net';
import type { Document } from 'bson';
import { Engine } from './engine.js';
import type { ConnectionInfo } from './engine.js';
import { memoryPersistence } from './persistence/memory-persistence.js';
import type { Persistence, RecoveredState } from './persistence/types.js';
import { encodeReply, MAX_MESSAGE_SIZE, parseMessage } from './wire.js';
import type { Request } from './wire.js';

export interface EmbeddedMongoOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on; loopback by default. */
  host?: string;
  /** Directory for the log and snapshots; null/undefined keeps everything in memory. */
  dataDir?: string | null;
  log?: (msg: string, fields?: object) => void;
  /** How often TTL indexes are swept, in ms (default 60 000 as in MongoDB). */
  ttlSweepMs?: number;
}

export interface EmbeddedMongo {
  /** `mongodb://127.0.0.1:PORT` (append a database name). */
  uri: string;
  port: number;
  /** Stops accepting connections, finishes in-flight commands, closes persistence. */
  close(): Promise<void>;
}

async function openPersistence(
  dataDir: string | null | undefined,
): Promise<{ persistence: Persistence; recovered: RecoveredState }> {
  if (dataDir === null || dataDir === undefined) return memoryPersistence();
  // Loaded lazily so an in-memory store does not touch the file system code at all.
  const { openFilePersistence } = await import('./persistence/file-persistence.js');
  return openFilePersistence(dataDir);
}

/** Starts a MongoDB-compatible store on a loopback TCP port (wire protocol, mongoose/driver compatible). */
export async function startEmbeddedMongo(options: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => {});
  const { persistence, recovered } = await openPersistence(options.dataDir);
  const engine = new Engine({ persistence, recovered, log, ttlSweepMs: options.ttlSweepMs });
  const sockets = new Set<net.Socket>();
  const inFlight = new Set<Promise<void>>();
  let nextConnectionId = 1;
  let closing = false;

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const conn: ConnectionInfo = { id: nextConnectionId++, compressors: [] };
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let chain: Promise<void> = Promise.resolve();

    const handle = async (req: Request): Promise<void> => {
      const reply: Document = await engine.run(req.command, conn);
      if (req.moreToCome || socket.destroyed) return;
      socket.write(encodeReply(req, reply));
    };

    socket.on('data', (chunk: Buffer) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      // Concatenate only once a whole message is there (large inserts arrive in many chunks).
      while (pendingBytes >= 4) {
        if ((pending[0] as Buffer).length < 4) pending = [Buffer.concat(pending)];
        const len = (pending[0] as Buffer).readInt32LE(0);
        if (len < 16 || len > MAX_MESSAGE_SIZE) {
          log('store: invalid message length, closing connection', { len });
          socket.destroy();
          return;
        }
        if (pendingBytes < len) break;
        const buf = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
        const msg = buf.subarray(0, len);
        const rest = buf.subarray(len);
        pending = rest.length > 0 ? [rest] : [];
        pendingBytes = rest.length;
        let req: Request;
        try {
          req = parseMessage(msg);
        } catch (err) {
          log('store: malformed message, closing connection', { error: String(err) });
          socket.destroy();
          return;
        }
        const p = (chain = chain
          .then(() => handle(req))
          .catch((err: unknown) => {
            log('store: connection error', { error: String(err) });
          }));
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
  const uriHost = host.includes(':') ? `[${host}]` : host;
  log('embedded store listening', { port, dataDir: options.dataDir ?? null });

  return {
    uri: `mongodb://${uriHost}:${port}`,
    port,
    close: async () => {
      if (closing) return;
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...inFlight]);
      for (const s of sockets) s.destroy();
      await closed;
      await engine.close();
      await persistence.close();
    },
  };
}
