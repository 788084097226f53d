import type { Document } from 'bson';
import type { IndexSpec } from './btree-index.js';
import { Catalog } from './catalog.js';
import { CatalogCommands } from './catalog-commands.js';
import type { Collection } from './collection.js';
import { Cursors } from './cursors.js';
import { CommandError, fail, toCommandError } from './errors.js';
import type { CollectionImage, JournalOp, Persistence, RecoveredState } from './persistence/types.js';
import { ReadCommands } from './read-commands.js';
import { pathValues } from './values.js';
import { MAX_BSON_SIZE, MAX_MESSAGE_SIZE } from './wire.js';
import type { Persist } from './command-args.js';
import { WriteCommands } from './write-commands.js';

/**
 * The command layer: databases of collections in memory, every write journaled through the
 * Persistence (one record per command) before the reply goes out. The commands themselves are in
 * write-commands.ts, read-commands.ts and catalog-commands.ts; this dispatches to them, answers
 * the handshake and server commands, recovers, snapshots and sweeps TTL indexes.
 */

export interface EngineOptions {
  persistence: Persistence;
  recovered: RecoveredState;
  log?: (msg: string, fields?: object) => void;
  /** How often TTL indexes are swept (MongoDB: 60 s). */
  ttlSweepMs?: number;
  /** How long an idle cursor lives (MongoDB: 10 min). */
  cursorTimeoutMs?: number;
}

export interface ConnectionInfo {
  id: number;
  compressors: string[];
}

const MAX_WIRE_VERSION = 21;

export class Engine {
  private readonly catalog = new Catalog();
  private readonly cursors: Cursors;
  private readonly writes: WriteCommands;
  private readonly reads: ReadCommands;
  private readonly catalogCommands: CatalogCommands;
  private readonly persistence: Persistence;
  private readonly log: (msg: string, fields?: object) => void;
  private snapshotting: Promise<void> | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly startedAt = Date.now();

  constructor(opts: EngineOptions) {
    this.persistence = opts.persistence;
    this.log = opts.log ?? (() => {});
    const cursorTimeoutMs = opts.cursorTimeoutMs ?? 10 * 60 * 1000;
    this.cursors = new Cursors(cursorTimeoutMs);
    const persist: Persist = (ops, journaled) => this.persist(ops, journaled);
    this.writes = new WriteCommands(this.catalog, persist);
    this.reads = new ReadCommands(this.catalog, this.cursors);
    this.catalogCommands = new CatalogCommands(this.catalog, this.cursors, persist);
    this.recover(opts.recovered);
    const ttl = setInterval(() => void this.sweepTtl(), opts.ttlSweepMs ?? 60_000);
    const reap = setInterval(() => this.cursors.reap(), Math.min(60_000, cursorTimeoutMs));
    ttl.unref();
    reap.unref();
    this.timers.push(ttl, reap);
  }

  // ---------------------------------------------------------------- recovery / snapshot

  private recover(state: RecoveredState): void {
    for (const img of state.collections) {
      const c = this.catalog.ensure(img.db, img.coll, img.options);
      for (const spec of img.indexes) {
        if (spec.name !== '_id_') c.addIndex(spec as IndexSpec);
      }
      for (const d of img.docs) this.forcePut(c, d);
    }
    for (const record of state.records) for (const op of record) this.replay(op);
    if (state.truncatedBytes > 0)
      this.log('store log tail truncated on recovery', { bytes: state.truncatedBytes });
  }

  private forcePut(c: Collection, d: Document): void {
    const existing = c.findById(d._id);
    try {
      if (existing) c.replace(existing, d);
      else c.insert(d);
    } catch (err) {
      this.log('store recovery: index conflict while replaying a document', {
        db: c.db,
        coll: c.name,
        error: String(err),
      });
    }
  }

  private replay(op: JournalOp): void {
    switch (op.op) {
      case 'put':
        this.forcePut(this.catalog.ensure(op.db, op.coll), op.doc);
        break;
      case 'delete': {
        const c = this.catalog.get(op.db, op.coll);
        const d = c?.findById(op.id);
        if (c && d) c.remove(d);
        break;
      }
      case 'createCollection':
        this.catalog.ensure(op.db, op.coll, op.options);
        break;
      case 'dropCollection':
        this.catalog.drop(op.db, op.coll);
        break;
      case 'createIndex': {
        const c = this.catalog.ensure(op.db, op.coll);
        const spec = op.spec as IndexSpec;
        if (!c.indexes.has(spec.name)) {
          try {
            c.addIndex(spec);
          } catch (err) {
            this.log('store recovery: could not rebuild index', { name: spec.name, error: String(err) });
          }
        }
        break;
      }
      case 'dropIndex':
        this.catalog.get(op.db, op.coll)?.indexes.delete(op.name);
        break;
      case 'dropDatabase':
        this.catalog.dropDatabase(op.db);
        break;
    }
  }

  *images(): Iterable<CollectionImage> {
    for (const [db, colls] of this.catalog.dbs) {
      for (const [name, c] of colls) {
        yield { db, coll: name, options: c.options, indexes: c.indexSpecs(), docs: c.docs.values() };
      }
    }
  }

  /** Makes the ops durable: `journaled` waits for the fsync, else for the write to the log (see journaled()). */
  private async persist(ops: JournalOp[], journaled: boolean): Promise<void> {
    if (ops.length === 0) return;
    const done = this.persistence.append(ops, journaled);
    if (!this.snapshotting && this.persistence.snapshotDue) {
      const started = performance.now();
      this.snapshotting = this.persistence
        .snapshot(() => this.images())
        .then(() => this.log('store snapshot written', { ms: Math.round(performance.now() - started) }))
        .catch((err: unknown) => this.log('store snapshot failed', { error: String(err) }))
        .finally(() => {
          this.snapshotting = undefined;
        });
    }
    await done;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    if (this.snapshotting) await this.snapshotting;
  }

  // ---------------------------------------------------------------- TTL

  private async sweepTtl(): Promise<void> {
    const now = Date.now();
    for (const [db, colls] of this.catalog.dbs) {
      for (const [name, c] of colls) {
        const ops: JournalOp[] = [];
        for (const ix of c.indexes.values()) {
          const secs = ix.spec.expireAfterSeconds;
          if (typeof secs !== 'number' || ix.fields.length !== 1) continue;
          const path = (ix.fields[0] as string).split('.');
          for (const d of [...c.docs.values()]) {
            const dates = pathValues(d, path)
              .flatMap((v) => (Array.isArray(v) ? v : [v]))
              .filter((v): v is Date => v instanceof Date);
            if (dates.length === 0) continue;
            const earliest = Math.min(...dates.map((x) => x.getTime()));
            if (earliest + secs * 1000 <= now && c.findById(d._id)) {
              c.remove(d);
              ops.push({ op: 'delete', db, coll: name, id: d._id });
            }
          }
        }
        if (ops.length > 0) {
          try {
            await this.persist(ops, false);
          } catch (err) {
            this.log('store TTL sweep could not persist', { error: String(err) });
          }
        }
      }
    }
  }

  /** Runs the sweep now (for tests and tooling). */
  async expireNow(): Promise<void> {
    await this.sweepTtl();
  }

  // ---------------------------------------------------------------- dispatch

  async run(cmd: Document, conn: ConnectionInfo): Promise<Document> {
    try {
      return await this.dispatch(cmd, conn);
    } catch (err) {
      const e = toCommandError(err);
      if (!(err instanceof CommandError)) this.log('store command failed', { error: String(err) });
      return { ok: 0, errmsg: e.message, code: e.code, codeName: e.codeName, ...e.extra };
    }
  }

  private async dispatch(cmd: Document, conn: ConnectionInfo): Promise<Document> {
    const name = Object.keys(cmd)[0];
    if (name === undefined) fail(59, 'no command');
    const db = typeof cmd.$db === 'string' ? cmd.$db : 'admin';
    if (cmd.startTransaction === true || cmd.autocommit === false || cmd.txnNumber !== undefined) {
      fail(20, 'Transaction numbers are only allowed on a replica set member or mongos');
    }
    switch (name) {
      case 'hello':
      case 'isMaster':
      case 'ismaster':
        return this.hello(cmd, conn, name === 'hello');
      case 'ping':
        return { ok: 1 };
      case 'buildInfo':
      case 'buildinfo':
        return {
          version: '7.0.0',
          gitVersion: 'embedded',
          versionArray: [7, 0, 0, 0],
          bits: 64,
          debug: false,
          maxBsonObjectSize: MAX_BSON_SIZE,
          storageEngines: ['embedded'],
          ok: 1,
        };
      case 'getParameter':
        return { featureCompatibilityVersion: { version: '7.0' }, ok: 1 };
      case 'getLog':
        return { totalLinesWritten: 0, log: [], ok: 1 };
      case 'serverStatus':
        return {
          host: 'localhost',
          version: '7.0.0',
          process: 'embedded-mongo',
          uptime: (Date.now() - this.startedAt) / 1000,
          localTime: new Date(),
          connections: { current: 0 },
          ok: 1,
        };
      case 'hostInfo':
        return { system: { currentTime: new Date(), hostname: 'localhost' }, os: {}, extra: {}, ok: 1 };
      case 'whatsmyuri':
        return { you: '127.0.0.1', ok: 1 };
      case 'connectionStatus':
        return { authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 };
      case 'endSessions':
      case 'refreshSessions':
      case 'startSession':
        return name === 'startSession' ? { id: cmd.lsid ?? {}, timeoutMinutes: 30, ok: 1 } : { ok: 1 };
      case 'commitTransaction':
      case 'abortTransaction':
        fail(20, 'Transaction numbers are only allowed on a replica set member or mongos');
      // falls through (fail throws)
      case 'insert':
        return this.writes.insert(db, cmd);
      case 'find':
        return this.reads.find(db, cmd);
      case 'getMore':
        return this.cursors.getMore(cmd);
      case 'killCursors':
        return this.cursors.kill(cmd);
      case 'update':
        return this.writes.update(db, cmd);
      case 'delete':
        return this.writes.delete(db, cmd);
      case 'findAndModify':
      case 'findandmodify':
        return this.writes.findAndModify(db, cmd, name);
      case 'aggregate':
        return this.reads.aggregate(db, cmd);
      case 'count':
        return this.reads.count(db, cmd);
      case 'distinct':
        return this.reads.distinct(db, cmd);
      case 'create':
        return this.catalogCommands.create(db, cmd);
      case 'drop':
        return this.catalogCommands.drop(db, cmd);
      case 'dropDatabase':
        return this.catalogCommands.dropDatabase(db);
      case 'createIndexes':
        return this.catalogCommands.createIndexes(db, cmd);
      case 'listIndexes':
        return this.catalogCommands.listIndexes(db, cmd);
      case 'dropIndexes':
      case 'deleteIndexes':
        return this.catalogCommands.dropIndexes(db, cmd, name);
      case 'listCollections':
        return this.catalogCommands.listCollections(db, cmd);
      case 'listDatabases':
        return this.catalogCommands.listDatabases(cmd);
      case 'collStats':
        return this.catalogCommands.collStats(db, cmd);
      case 'dbStats':
        return this.catalogCommands.dbStats(db);
      case 'explain':
        return this.reads.explain(db, cmd);
      default:
        fail(59, `no such command: '${name}'`);
    }
  }

  private hello(cmd: Document, conn: ConnectionInfo, isHello: boolean): Document {
    const reply: Document = {
      helloOk: true,
      isWritablePrimary: true,
      ismaster: true,
      maxBsonObjectSize: MAX_BSON_SIZE,
      maxMessageSizeBytes: MAX_MESSAGE_SIZE,
      maxWriteBatchSize: 100_000,
      localTime: new Date(),
      logicalSessionTimeoutMinutes: 30,
      connectionId: conn.id,
      minWireVersion: 0,
      maxWireVersion: MAX_WIRE_VERSION,
      readOnly: false,
      ok: 1,
    };
    if (isHello) delete reply.ismaster;
    const requested = Array.isArray(cmd.compression) ? (cmd.compression as unknown[]) : undefined;
    if (requested) {
      const agreed = requested.filter((c): c is string => c === 'zlib');
      conn.compressors = agreed;
      if (agreed.length > 0) reply.compression = agreed;
    }
    return reply;
  }
}
