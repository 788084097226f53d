import { calculateObjectSize, Long } from 'bson';
import type { Document } from 'bson';
import type { IndexSpec } from './btree-index.js';
import { Collection } from './collection.js';
import type { PlanInfo } from './collection.js';
import { CommandError, fail, toCommandError } from './errors.js';
import type { CollectionImage, JournalOp, Persistence, RecoveredState } from './persistence/types.js';
import { aggregate, compileFilter, idFirst, parseSort, project } from './query.js';
import { applyUpdate, docsEqual, isOperatorUpdate, seedFromQuery, validateStoredDoc } from './update.js';
import { cloneDoc, isPlainObject, keyString, pathValues } from './values.js';
import { RAW_DOCUMENTS } from './wire.js';

/**
 * The command layer: databases of collections in memory, every write journaled through the
 * Persistence (one record per command) before the reply goes out.
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

interface Cursor {
  id: bigint;
  ns: string;
  docs: Document[];
  pos: number;
  lastUsed: number;
}

const MAX_BSON = 16 * 1024 * 1024;
/** Room left in a 16 MiB reply for the envelope around a batch. */
const BATCH_BYTES = MAX_BSON - 64 * 1024;
const MAX_WIRE_VERSION = 21;

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') fail(2, `${what} must be a non-empty string`);
  return v;
}

function num(v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null && '_bsontype' in v) {
    const t = (v as { _bsontype: string })._bsontype;
    if (t === 'Long') return (v as Long).toNumber();
    if (t === 'Int32' || t === 'Double') return (v as unknown as { value: number }).value;
  }
  return dflt;
}

function doc(v: unknown): Document {
  if (v === undefined || v === null) return {};
  if (!isPlainObject(v)) fail(14, 'expected an object');
  return v;
}

/**
 * Whether a write waits for the fsync of the log, as its write concern asks on MongoDB: `j: true`,
 * or `w: "majority"` (on a standalone, a majority is this node's journal), or no write concern at
 * all (MongoDB's default is majority). `w: <number>` without `j` is acknowledged once the write is
 * in the log file, which a crash of the store's process cannot lose; it is fsynced within
 * LAZY_SYNC_MS, so only a power failure can lose it.
 */
function journaled(cmd: Document): boolean {
  const wc: unknown = cmd.writeConcern;
  if (wc === null || typeof wc !== 'object') return true;
  const { j, w } = wc as { j?: unknown; w?: unknown };
  if (typeof j === 'boolean') return j;
  return typeof w !== 'number';
}

function writeErrorOf(index: number, err: unknown): Document {
  const e = toCommandError(err);
  return { index, code: e.code, codeName: e.codeName, errmsg: e.message, ...e.extra };
}

export class Engine {
  private readonly dbs = new Map<string, Map<string, Collection>>();
  private readonly cursors = new Map<bigint, Cursor>();
  private nextCursorId = BigInt(Date.now()) * 1000n;
  private readonly persistence: Persistence;
  private readonly log: (msg: string, fields?: object) => void;
  private readonly cursorTimeoutMs: number;
  private snapshotting: Promise<void> | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly startedAt = Date.now();

  constructor(opts: EngineOptions) {
    this.persistence = opts.persistence;
    this.log = opts.log ?? (() => {});
    this.cursorTimeoutMs = opts.cursorTimeoutMs ?? 10 * 60 * 1000;
    this.recover(opts.recovered);
    const ttl = setInterval(() => void this.sweepTtl(), opts.ttlSweepMs ?? 60_000);
    const reap = setInterval(() => this.reapCursors(), Math.min(60_000, this.cursorTimeoutMs));
    ttl.unref();
    reap.unref();
    this.timers.push(ttl, reap);
  }

  // ---------------------------------------------------------------- recovery / snapshot

  private recover(state: RecoveredState): void {
    for (const img of state.collections) {
      const c = this.ensureColl(img.db, img.coll, img.options);
      for (const spec of img.indexes) {
        if (spec.name !== '_id_') c.addIndex(spec as IndexSpec);
      }
      for (const d of img.docs) this.forcePut(c, d);
    }
    for (const record of state.records) for (const op of record) this.replay(op);
    if (state.truncatedBytes > 0) this.log('store log tail truncated on recovery', { bytes: state.truncatedBytes });
  }

  private forcePut(c: Collection, d: Document): void {
    const existing = c.findById(d._id);
    try {
      if (existing) c.replace(existing, d);
      else c.insert(d);
    } catch (err) {
      this.log('store recovery: index conflict while replaying a document', { db: c.db, coll: c.name, error: String(err) });
    }
  }

  private replay(op: JournalOp): void {
    switch (op.op) {
      case 'put':
        this.forcePut(this.ensureColl(op.db, op.coll), op.doc);
        break;
      case 'delete': {
        const c = this.dbs.get(op.db)?.get(op.coll);
        const d = c?.findById(op.id);
        if (c && d) c.remove(d);
        break;
      }
      case 'createCollection':
        this.ensureColl(op.db, op.coll, op.options);
        break;
      case 'dropCollection':
        this.dbs.get(op.db)?.delete(op.coll);
        break;
      case 'createIndex': {
        const c = this.ensureColl(op.db, op.coll);
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
        this.dbs.get(op.db)?.get(op.coll)?.indexes.delete(op.name);
        break;
      case 'dropDatabase':
        this.dbs.delete(op.db);
        break;
    }
  }

  *images(): Iterable<CollectionImage> {
    for (const [db, colls] of this.dbs) {
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

  // ---------------------------------------------------------------- catalog

  private ensureColl(db: string, name: string, options: Document = {}): Collection {
    let colls = this.dbs.get(db);
    if (!colls) {
      colls = new Map();
      this.dbs.set(db, colls);
    }
    let c = colls.get(name);
    if (!c) {
      c = new Collection(db, name, options);
      colls.set(name, c);
    }
    return c;
  }

  private coll(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** The collection, created (and journaled) if missing. */
  private collForWrite(db: string, name: string, ops: JournalOp[]): Collection {
    const c = this.coll(db, name);
    if (c) return c;
    if (name.includes('$') || name === '') fail(73, `Invalid collection name: ${name}`);
    ops.push({ op: 'createCollection', db, coll: name, options: {} });
    return this.ensureColl(db, name);
  }

  // ---------------------------------------------------------------- cursors

  private makeCursorReply(ns: string, docs: Document[], batchSize: number, single: boolean, first = true): Document {
    const batch = this.takeBatch(docs, 0, batchSize);
    let id = 0n;
    if (!single && batch.length < docs.length) {
      id = this.nextCursorId++;
      this.cursors.set(id, { id, ns, docs, pos: batch.length, lastUsed: Date.now() });
    }
    return { cursor: { [first ? 'firstBatch' : 'nextBatch']: batch, id: Long.fromBigInt(id), ns }, ok: 1 };
  }

  private takeBatch(docs: Document[], from: number, batchSize: number): Document[] {
    const max = batchSize > 0 ? batchSize : Infinity;
    const out: Document[] = [];
    let bytes = 0;
    for (let i = from; i < docs.length && out.length < max; i++) {
      const d = docs[i] as Document;
      const size = calculateObjectSize(d);
      if (out.length > 0 && bytes + size > BATCH_BYTES) break;
      bytes += size;
      out.push(d);
    }
    return out;
  }

  private reapCursors(): void {
    const now = Date.now();
    for (const [id, c] of this.cursors) if (now - c.lastUsed > this.cursorTimeoutMs) this.cursors.delete(id);
  }

  // ---------------------------------------------------------------- TTL

  private async sweepTtl(): Promise<void> {
    const now = Date.now();
    for (const [db, colls] of this.dbs) {
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
          maxBsonObjectSize: MAX_BSON,
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
        return this.insert(db, cmd);
      case 'find':
        return this.find(db, cmd);
      case 'getMore':
        return this.getMore(cmd);
      case 'killCursors':
        return this.killCursors(cmd);
      case 'update':
        return this.update(db, cmd);
      case 'delete':
        return this.delete(db, cmd);
      case 'findAndModify':
      case 'findandmodify':
        return this.findAndModify(db, cmd, name);
      case 'aggregate':
        return this.aggregate(db, cmd);
      case 'count':
        return this.count(db, cmd);
      case 'distinct':
        return this.distinct(db, cmd);
      case 'create':
        return this.create(db, cmd);
      case 'drop':
        return this.drop(db, cmd);
      case 'dropDatabase':
        return this.dropDatabase(db);
      case 'createIndexes':
        return this.createIndexes(db, cmd);
      case 'listIndexes':
        return this.listIndexes(db, cmd);
      case 'dropIndexes':
      case 'deleteIndexes':
        return this.dropIndexes(db, cmd, name);
      case 'listCollections':
        return this.listCollections(db, cmd);
      case 'listDatabases':
        return this.listDatabases(cmd);
      case 'collStats':
        return this.collStats(db, cmd);
      case 'dbStats':
        return this.dbStats(db);
      case 'explain':
        return this.explain(db, cmd);
      default:
        fail(59, `no such command: '${name}'`);
    }
  }

  private hello(cmd: Document, conn: ConnectionInfo, isHello: boolean): Document {
    const reply: Document = {
      helloOk: true,
      isWritablePrimary: true,
      ismaster: true,
      maxBsonObjectSize: MAX_BSON,
      maxMessageSizeBytes: 48_000_000,
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

  // ---------------------------------------------------------------- writes

  private async insert(db: string, cmd: Document): Promise<Document> {
    const name = str(cmd.insert, 'insert');
    const docs = cmd.documents;
    if (!Array.isArray(docs)) fail(2, 'insert needs documents');
    const raws = (cmd as { [RAW_DOCUMENTS]?: Uint8Array[] })[RAW_DOCUMENTS];
    const ordered = cmd.ordered !== false;
    const ops: JournalOp[] = [];
    const c = this.collForWrite(db, name, ops);
    const writeErrors: Document[] = [];
    let n = 0;
    for (let i = 0; i < docs.length; i++) {
      try {
        const d = docs[i] as unknown;
        if (!isPlainObject(d)) fail(2, 'document must be an object');
        validateStoredDoc(d);
        const stored = Collection.withId(d);
        c.insert(stored);
        // The bytes as received are the stored document when nothing was added to it (its _id).
        const bson = stored === d ? raws?.[i] : undefined;
        ops.push({ op: 'put', db, coll: name, doc: stored, ...(bson ? { bson } : {}) });
        n++;
      } catch (err) {
        writeErrors.push(writeErrorOf(i, err));
        if (ordered) break;
      }
    }
    await this.persist(ops, journaled(cmd));
    const reply: Document = { n, ok: 1 };
    if (writeErrors.length > 0) reply.writeErrors = writeErrors;
    return reply;
  }

  /** Applies one update statement; pushes journal ops. */
  private updateOne(
    db: string,
    c: Collection,
    stmt: Document,
    ops: JournalOp[],
    positionalQuery?: Document,
  ): { n: number; nModified: number; upserted?: unknown; before?: Document; after?: Document } {
    const q = doc(stmt.q);
    const u: unknown = stmt.u;
    const multi = stmt.multi === true;
    const upsert = stmt.upsert === true;
    const arrayFilters = Array.isArray(stmt.arrayFilters) ? (stmt.arrayFilters as Document[]) : undefined;
    if (multi && !Array.isArray(u) && !isOperatorUpdate(u) && isPlainObject(u) && Object.keys(u).length > 0) {
      fail(9, 'multi update is not supported for replacement-style update');
    }
    const sort = parseSort(stmt.sort);
    const matches = c.query(q, sort, multi ? 0 : 1, 0, stmt.hint).docs;
    let n = 0;
    let nModified = 0;
    for (const old of matches) {
      const next = applyUpdate(old, u, { inserting: false, arrayFilters, query: positionalQuery ?? q });
      n++;
      if (docsEqual(old, next)) continue;
      c.replace(old, next);
      ops.push({ op: 'put', db, coll: c.name, doc: next });
      nModified++;
    }
    if (n === 0 && upsert) {
      const seed = seedFromQuery(q);
      let created = applyUpdate(seed, u, { inserting: true, arrayFilters, query: q });
      if (seed._id !== undefined && created._id === undefined) created = { _id: seed._id, ...created };
      created = Collection.withId(created);
      if (Object.keys(created)[0] !== '_id') {
        const { _id, ...rest } = created;
        created = { _id, ...rest };
      }
      validateStoredDoc(created);
      c.insert(created);
      ops.push({ op: 'put', db, coll: c.name, doc: created });
      return { n: 1, nModified: 0, upserted: created._id, after: created };
    }
    return { n, nModified };
  }

  private async update(db: string, cmd: Document): Promise<Document> {
    const name = str(cmd.update, 'update');
    const stmts = cmd.updates;
    if (!Array.isArray(stmts)) fail(2, 'update needs updates');
    const ordered = cmd.ordered !== false;
    const ops: JournalOp[] = [];
    const writeErrors: Document[] = [];
    const upserted: Document[] = [];
    let n = 0;
    let nModified = 0;
    for (let i = 0; i < stmts.length; i++) {
      try {
        const stmt = doc(stmts[i]);
        const c = stmt.upsert === true ? this.collForWrite(db, name, ops) : this.coll(db, name);
        if (!c) continue;
        const r = this.updateOne(db, c, stmt, ops);
        n += r.n;
        nModified += r.nModified;
        if (r.upserted !== undefined) upserted.push({ index: i, _id: r.upserted });
      } catch (err) {
        writeErrors.push(writeErrorOf(i, err));
        if (ordered) break;
      }
    }
    await this.persist(ops, journaled(cmd));
    const reply: Document = { n, nModified, ok: 1 };
    if (upserted.length > 0) reply.upserted = upserted;
    if (writeErrors.length > 0) reply.writeErrors = writeErrors;
    return reply;
  }

  private async delete(db: string, cmd: Document): Promise<Document> {
    const name = str(cmd.delete, 'delete');
    const stmts = cmd.deletes;
    if (!Array.isArray(stmts)) fail(2, 'delete needs deletes');
    const ordered = cmd.ordered !== false;
    const ops: JournalOp[] = [];
    const writeErrors: Document[] = [];
    let n = 0;
    const c = this.coll(db, name);
    for (let i = 0; i < stmts.length; i++) {
      try {
        const stmt = doc(stmts[i]);
        if (!c) continue;
        const limit = num(stmt.limit, 0);
        const matches = c.query(doc(stmt.q), [], limit === 1 ? 1 : 0, 0, stmt.hint).docs;
        for (const d of matches) {
          c.remove(d);
          ops.push({ op: 'delete', db, coll: name, id: d._id });
          n++;
        }
      } catch (err) {
        writeErrors.push(writeErrorOf(i, err));
        if (ordered) break;
      }
    }
    await this.persist(ops, journaled(cmd));
    const reply: Document = { n, ok: 1 };
    if (writeErrors.length > 0) reply.writeErrors = writeErrors;
    return reply;
  }

  private async findAndModify(db: string, cmd: Document, cmdName: string): Promise<Document> {
    const name = str(cmd[cmdName], 'findAndModify');
    const q = doc(cmd.query);
    const remove = cmd.remove === true;
    const returnNew = cmd.new === true;
    const upsert = cmd.upsert === true;
    if (remove && (cmd.update !== undefined || upsert)) fail(9, 'Cannot specify both an update and remove=true');
    if (!remove && cmd.update === undefined) fail(9, 'Either an update or remove=true must be specified');
    const ops: JournalOp[] = [];
    const sort = parseSort(cmd.sort);
    const fields = cmd.fields;
    const shape = (d: Document | undefined): Document | null => (d ? (project([d], fields)[0] ?? null) : null);
    let reply: Document;
    if (remove) {
      const c = this.coll(db, name);
      const d = c?.query(q, sort, 1, 0, cmd.hint).docs[0];
      if (c && d) {
        c.remove(d);
        ops.push({ op: 'delete', db, coll: name, id: d._id });
      }
      reply = { lastErrorObject: { n: d ? 1 : 0 }, value: shape(d), ok: 1 };
    } else {
      const c = upsert ? this.collForWrite(db, name, ops) : this.coll(db, name);
      if (!c) {
        reply = { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
      } else {
        const before = c.query(q, sort, 1, 0, cmd.hint).docs[0];
        const arrayFilters = Array.isArray(cmd.arrayFilters) ? (cmd.arrayFilters as Document[]) : undefined;
        let r: ReturnType<Engine['updateOne']>;
        try {
          r = this.updateOne(db, c, { q: before ? { _id: before._id } : q, u: cmd.update, upsert, arrayFilters }, ops, q);
        } catch (err) {
          await this.persist(ops, journaled(cmd));
          throw err;
        }
        const after = before ? c.findById(before._id) : r.after;
        const lastErrorObject: Document = { n: r.n, updatedExisting: before !== undefined };
        if (r.upserted !== undefined) lastErrorObject.upserted = r.upserted;
        reply = { lastErrorObject, value: shape(returnNew ? after : before), ok: 1 };
      }
    }
    await this.persist(ops, journaled(cmd));
    return reply;
  }

  // ---------------------------------------------------------------- reads

  private runFind(db: string, cmd: Document): { ns: string; docs: Document[]; plan: PlanInfo | undefined } {
    const name = str(cmd.find, 'find');
    const ns = `${db}.${name}`;
    const c = this.coll(db, name);
    if (cmd.tailable === true) fail(2, 'tailable cursors are not supported');
    if (!c) return { ns, docs: [], plan: undefined };
    const limit = Math.abs(num(cmd.limit, 0));
    const skip = num(cmd.skip, 0);
    if (skip < 0) fail(2, 'skip must be non-negative');
    const r = c.query(doc(cmd.filter), parseSort(cmd.sort), limit, skip, cmd.hint);
    return { ns, docs: project(r.docs, cmd.projection), plan: r.plan };
  }

  private find(db: string, cmd: Document): Document {
    const { ns, docs } = this.runFind(db, cmd);
    const limit = num(cmd.limit, 0);
    const single = cmd.singleBatch === true || limit < 0;
    return this.makeCursorReply(ns, docs, num(cmd.batchSize, 101), single);
  }

  private getMore(cmd: Document): Document {
    const raw: unknown = cmd.getMore;
    const id = raw instanceof Long ? raw.toBigInt() : BigInt(num(raw, 0));
    const cur = this.cursors.get(id);
    if (!cur) fail(43, `cursor id ${id.toString()} not found`);
    const batch = this.takeBatch(cur.docs, cur.pos, num(cmd.batchSize, 0));
    cur.pos += batch.length;
    cur.lastUsed = Date.now();
    let outId = cur.id;
    if (cur.pos >= cur.docs.length) {
      this.cursors.delete(id);
      outId = 0n;
    }
    return { cursor: { nextBatch: batch, id: Long.fromBigInt(outId), ns: cur.ns }, ok: 1 };
  }

  private killCursors(cmd: Document): Document {
    const ids = Array.isArray(cmd.cursors) ? (cmd.cursors as unknown[]) : [];
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const raw of ids) {
      const id = raw instanceof Long ? raw.toBigInt() : BigInt(num(raw, 0));
      if (this.cursors.delete(id)) killed.push(Long.fromBigInt(id));
      else notFound.push(Long.fromBigInt(id));
    }
    return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
  }

  private runAggregate(db: string, cmd: Document): { ns: string; docs: Document[]; plan: PlanInfo | undefined } {
    const target: unknown = cmd.aggregate;
    const pipeline = cmd.pipeline;
    if (!Array.isArray(pipeline)) fail(14, "'pipeline' option must be specified as an array");
    for (const stage of pipeline as Document[]) {
      const k = Object.keys(stage)[0];
      if (k === '$out' || k === '$merge') fail(115, `${k} is not supported by this store`);
    }
    const name = typeof target === 'string' ? target : '$cmd.aggregate';
    const ns = `${db}.${name}`;
    const c = typeof target === 'string' ? this.coll(db, target) : undefined;
    let stages = pipeline as Document[];
    let input: Document[] = [];
    let plan: PlanInfo | undefined;
    if (c) {
      const first = stages[0];
      if (first && isPlainObject(first.$match)) {
        const r = c.query(first.$match, [], 0, 0);
        input = r.docs;
        plan = r.plan;
        stages = stages.slice(1);
      } else input = [...c.docs.values()];
    }
    const resolver = (other: string): Document[] => [...(this.coll(db, other)?.docs.values() ?? [])];
    const copies = stages.length > 0 ? input.map((d) => cloneDoc(d)) : input;
    const docs = stages.length > 0 ? idFirst(aggregate(copies, stages, resolver)) : copies;
    return { ns, docs, plan };
  }

  private aggregate(db: string, cmd: Document): Document {
    if (cmd.explain === true) {
      const { ns, docs, plan } = this.runAggregate(db, cmd);
      return this.explainReply(ns, cmd.pipeline, docs.length, plan, 0);
    }
    if (!isPlainObject(cmd.cursor)) fail(9, "The 'cursor' option is required");
    const { ns, docs } = this.runAggregate(db, cmd);
    return this.makeCursorReply(ns, docs, num(cmd.cursor.batchSize, 101), false);
  }

  private count(db: string, cmd: Document): Document {
    const name = str(cmd.count, 'count');
    const c = this.coll(db, name);
    if (!c) return { n: 0, ok: 1 };
    const q = doc(cmd.query);
    const skip = num(cmd.skip, 0);
    const limit = Math.abs(num(cmd.limit, 0));
    if (Object.keys(q).length === 0) {
      const total = Math.max(0, c.docs.size - skip);
      return { n: limit > 0 ? Math.min(limit, total) : total, ok: 1 };
    }
    return { n: c.query(q, [], limit, skip).docs.length, ok: 1 };
  }

  private distinct(db: string, cmd: Document): Document {
    const name = str(cmd.distinct, 'distinct');
    const key = str(cmd.key, 'key');
    const c = this.coll(db, name);
    if (!c) return { values: [], ok: 1 };
    const docs = c.query(doc(cmd.query), [], 0, 0).docs;
    const seen = new Map<string, unknown>();
    for (const d of docs) {
      for (const v of pathValues(d, key.split('.'))) {
        if (v === undefined) continue;
        for (const x of Array.isArray(v) ? v : [v]) {
          const k = keyString(x);
          if (!seen.has(k)) seen.set(k, x);
        }
      }
    }
    return { values: [...seen.values()], ok: 1 };
  }

  // ---------------------------------------------------------------- catalog commands

  private async create(db: string, cmd: Document): Promise<Document> {
    const name = str(cmd.create, 'create');
    if (this.coll(db, name)) fail(48, `Collection ${db}.${name} already exists.`);
    if (cmd.viewOn !== undefined) fail(115, 'views are not supported by this store');
    const options: Document = {};
    for (const k of Object.keys(cmd)) {
      if (k === 'create' || k.startsWith('$') || k === 'lsid' || k === 'writeConcern' || k === 'comment') continue;
      options[k] = cmd[k];
    }
    this.ensureColl(db, name, options);
    await this.persist([{ op: 'createCollection', db, coll: name, options }], true);
    return { ok: 1 };
  }

  private async drop(db: string, cmd: Document): Promise<Document> {
    const name = str(cmd.drop, 'drop');
    const c = this.coll(db, name);
    if (!c) return { ok: 1 };
    this.dbs.get(db)?.delete(name);
    await this.persist([{ op: 'dropCollection', db, coll: name }], true);
    return { nIndexesWas: c.indexes.size, ns: `${db}.${name}`, ok: 1 };
  }

  private async dropDatabase(db: string): Promise<Document> {
    if (this.dbs.has(db)) {
      this.dbs.delete(db);
      await this.persist([{ op: 'dropDatabase', db }], true);
    }
    return { dropped: db, ok: 1 };
  }

  private async createIndexes(db: string, cmd: Document): Promise<Document> {
    const name = str(cmd.createIndexes, 'createIndexes');
    const specs = cmd.indexes;
    if (!Array.isArray(specs) || specs.length === 0) fail(2, 'Must specify at least one index to create');
    const ops: JournalOp[] = [];
    const existed = this.coll(db, name) !== undefined;
    const c = this.collForWrite(db, name, ops);
    const before = c.indexes.size;
    let note: string | undefined;
    for (const raw of specs as unknown[]) {
      const s = doc(raw);
      if (!isPlainObject(s.key) || Object.keys(s.key).length === 0) fail(67, 'Index key pattern must be a non-empty object');
      const key = s.key;
      const ixName = typeof s.name === 'string' ? s.name : Object.keys(key).map((k) => `${k}_${String(key[k])}`).join('_');
      const spec: IndexSpec = { v: 2, key, name: ixName };
      for (const opt of Object.keys(s)) {
        if (opt === 'key' || opt === 'name' || opt === 'v' || opt === 'background' || opt === 'ns') continue;
        spec[opt] = s[opt];
      }
      if (spec.unique === false) delete spec.unique;
      if (spec.sparse === false) delete spec.sparse;
      const sameName = c.indexes.get(ixName);
      const sameKey = [...c.indexes.values()].find((i) => keyString(i.spec.key) === keyString(key));
      if (sameName) {
        if (keyString(sameName.spec.key) !== keyString(key)) {
          fail(86, `An existing index has the same name as the requested index. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName.spec)}`);
        }
        if (keyString({ ...sameName.spec }) !== keyString(spec) && ixName !== '_id_') {
          fail(85, `An equivalent index already exists with the same name but different options. Requested index: ${JSON.stringify(spec)}`);
        }
        note = 'all indexes already exist';
        continue;
      }
      if (sameKey && keyString(sameKey.spec.partialFilterExpression) === keyString(spec.partialFilterExpression)) {
        fail(85, `Index already exists with a different name: ${sameKey.name}`);
      }
      c.addIndex(spec);
      ops.push({ op: 'createIndex', db, coll: name, spec: { ...spec } });
    }
    await this.persist(ops, true);
    const reply: Document = {
      numIndexesBefore: before,
      numIndexesAfter: c.indexes.size,
      createdCollectionAutomatically: !existed,
      ok: 1,
    };
    if (note && c.indexes.size === before) reply.note = note;
    return reply;
  }

  private listIndexes(db: string, cmd: Document): Document {
    const name = str(cmd.listIndexes, 'listIndexes');
    const c = this.coll(db, name);
    if (!c) fail(26, `ns does not exist: ${db}.${name}`);
    const batchSize = isPlainObject(cmd.cursor) ? num(cmd.cursor.batchSize, 0) : 0;
    return this.makeCursorReply(`${db}.${name}`, c.indexSpecs(), batchSize, false);
  }

  private async dropIndexes(db: string, cmd: Document, cmdName: string): Promise<Document> {
    const name = str(cmd[cmdName], 'dropIndexes');
    const c = this.coll(db, name);
    if (!c) fail(26, `ns not found ${db}.${name}`);
    const was = c.indexes.size;
    const which: unknown = cmd.index;
    let names: string[];
    if (which === '*') names = [...c.indexes.keys()].filter((n) => n !== '_id_');
    else if (typeof which === 'string') names = [which];
    else if (Array.isArray(which)) names = which.map((x) => String(x));
    else if (isPlainObject(which)) {
      const found = [...c.indexes.values()].find((i) => keyString(i.spec.key) === keyString(which));
      if (!found) fail(27, `can't find index with key: ${JSON.stringify(which)}`);
      names = [found.name];
    } else fail(2, 'invalid index specification');
    for (const n of names) {
      if (n === '_id_') fail(72, 'cannot drop _id index');
      if (!c.indexes.has(n)) fail(27, `index not found with name [${n}]`);
    }
    const ops: JournalOp[] = [];
    for (const n of names) {
      c.indexes.delete(n);
      ops.push({ op: 'dropIndex', db, coll: name, name: n });
    }
    await this.persist(ops, true);
    return { nIndexesWas: was, ok: 1 };
  }

  private listCollections(db: string, cmd: Document): Document {
    const filter = compileFilter(cmd.filter);
    const nameOnly = cmd.nameOnly === true;
    const out: Document[] = [];
    for (const [name, c] of this.dbs.get(db) ?? []) {
      const full: Document = {
        name,
        type: 'collection',
        options: c.options,
        info: { readOnly: false },
        idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
      };
      if (!filter(full)) continue;
      out.push(nameOnly ? { name, type: 'collection' } : full);
    }
    const batchSize = isPlainObject(cmd.cursor) ? num(cmd.cursor.batchSize, 0) : 0;
    return this.makeCursorReply(`${db}.$cmd.listCollections`, out, batchSize, false);
  }

  private listDatabases(cmd: Document): Document {
    const filter = compileFilter(cmd.filter);
    const databases: Document[] = [];
    let total = 0;
    for (const [name, colls] of this.dbs) {
      let size = 0;
      for (const c of colls.values()) size += c.docs.size * 256;
      const entry = { name, sizeOnDisk: size, empty: colls.size === 0 };
      if (!filter(entry)) continue;
      total += size;
      databases.push(cmd.nameOnly === true ? { name } : entry);
    }
    return { databases, totalSize: total, totalSizeMb: Math.round(total / 1048576), ok: 1 };
  }

  private collStats(db: string, cmd: Document): Document {
    const name = str(cmd.collStats, 'collStats');
    const c = this.coll(db, name);
    if (!c) fail(26, `ns not found ${db}.${name}`);
    let size = 0;
    for (const d of c.docs.values()) size += calculateObjectSize(d);
    return {
      ns: `${db}.${name}`,
      count: c.docs.size,
      size,
      avgObjSize: c.docs.size ? Math.round(size / c.docs.size) : 0,
      storageSize: size,
      nindexes: c.indexes.size,
      totalIndexSize: 0,
      indexSizes: Object.fromEntries([...c.indexes.keys()].map((k) => [k, 0])),
      ok: 1,
    };
  }

  private dbStats(db: string): Document {
    const colls = this.dbs.get(db) ?? new Map<string, Collection>();
    let objects = 0;
    let indexes = 0;
    for (const c of colls.values()) {
      objects += c.docs.size;
      indexes += c.indexes.size;
    }
    return { db, collections: colls.size, views: 0, objects, indexes, dataSize: 0, storageSize: 0, ok: 1 };
  }

  private explain(db: string, cmd: Document): Document {
    const inner = doc(cmd.explain);
    const kind = Object.keys(inner)[0];
    const innerDb = typeof inner.$db === 'string' ? inner.$db : db;
    const t0 = performance.now();
    if (kind === 'find') {
      const { ns, docs, plan } = this.runFind(innerDb, inner);
      return this.explainReply(ns, inner.filter ?? {}, docs.length, plan, performance.now() - t0);
    }
    if (kind === 'aggregate') {
      const { ns, docs, plan } = this.runAggregate(innerDb, inner);
      return this.explainReply(ns, inner.pipeline, docs.length, plan, performance.now() - t0);
    }
    if (kind === 'count') {
      const name = str(inner.count, 'count');
      const c = this.coll(innerDb, name);
      const r = c?.query(doc(inner.query), [], 0, 0);
      return this.explainReply(`${innerDb}.${name}`, inner.query ?? {}, r?.docs.length ?? 0, r?.plan, performance.now() - t0);
    }
    fail(2, `explain is not supported for ${kind ?? 'this command'}`);
  }

  private explainReply(ns: string, parsed: unknown, nReturned: number, plan: PlanInfo | undefined, ms: number): Document {
    const winningPlan: Document = plan?.index
      ? {
          stage: 'FETCH',
          inputStage: {
            stage: 'IXSCAN',
            keyPattern: plan.keyPattern,
            indexName: plan.index,
            direction: plan.direction,
            isMultiKey: false,
          },
        }
      : { stage: 'COLLSCAN', direction: 'forward' };
    if (plan?.index && !plan.sortedByIndex) winningPlan.sortStage = 'SORT';
    return {
      explainVersion: '1',
      queryPlanner: { namespace: ns, parsedQuery: parsed ?? {}, winningPlan, rejectedPlans: [] },
      executionStats: {
        executionSuccess: true,
        nReturned,
        executionTimeMillis: Math.round(ms),
        totalKeysExamined: plan?.keysExamined ?? 0,
        totalDocsExamined: plan?.docsExamined ?? 0,
      },
      serverInfo: { host: 'localhost', port: 0, version: '7.0.0' },
      ok: 1,
    };
  }
}
