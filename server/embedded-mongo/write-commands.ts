import type { Document } from 'bson';
import type { Catalog } from './catalog.js';
import { Collection } from './collection.js';
import { doc, journaled, num, str, writeErrorOf, type Persist } from './command-args.js';
import { fail } from './errors.js';
import type { JournalOp } from './persistence/types.js';
import { parseSort, project } from './query.js';
import { applyUpdate, docsEqual, isOperatorUpdate, seedFromQuery, validateStoredDoc } from './update.js';
import { isPlainObject } from './values.js';
import { RAW_DOCUMENTS } from './wire.js';

/** insert, update, delete, findAndModify: applied in memory, then journaled as one record. */
export class WriteCommands {
  constructor(
    private readonly catalog: Catalog,
    private readonly persist: Persist,
  ) {}

  async insert(db: string, cmd: Document): Promise<Document> {
    const name = str(cmd.insert, 'insert');
    const docs = cmd.documents;
    if (!Array.isArray(docs)) fail(2, 'insert needs documents');
    const raws = (cmd as { [RAW_DOCUMENTS]?: Uint8Array[] })[RAW_DOCUMENTS];
    const ops: JournalOp[] = [];
    const c = this.catalog.forWrite(db, name, ops);
    let n = 0;
    const writeErrors = await this.statements(cmd, docs, ops, (d, i) => {
      if (!isPlainObject(d)) fail(2, 'document must be an object');
      validateStoredDoc(d);
      const stored = Collection.withId(d);
      c.insert(stored);
      // The bytes as received are the stored document when nothing was added to it (its _id).
      const bson = stored === d ? raws?.[i] : undefined;
      ops.push({ op: 'put', db, coll: name, doc: stored, ...(bson ? { bson } : {}) });
      n++;
    });
    return withWriteErrors({ n, ok: 1 }, writeErrors);
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

  async update(db: string, cmd: Document): Promise<Document> {
    const name = str(cmd.update, 'update');
    const stmts = cmd.updates;
    if (!Array.isArray(stmts)) fail(2, 'update needs updates');
    const ops: JournalOp[] = [];
    const upserted: Document[] = [];
    let n = 0;
    let nModified = 0;
    const writeErrors = await this.statements(cmd, stmts, ops, (raw, i) => {
      const stmt = doc(raw);
      const c = stmt.upsert === true ? this.catalog.forWrite(db, name, ops) : this.catalog.get(db, name);
      if (!c) return;
      const r = this.updateOne(db, c, stmt, ops);
      n += r.n;
      nModified += r.nModified;
      if (r.upserted !== undefined) upserted.push({ index: i, _id: r.upserted });
    });
    const reply: Document = { n, nModified, ok: 1 };
    if (upserted.length > 0) reply.upserted = upserted;
    return withWriteErrors(reply, writeErrors);
  }

  async delete(db: string, cmd: Document): Promise<Document> {
    const name = str(cmd.delete, 'delete');
    const stmts = cmd.deletes;
    if (!Array.isArray(stmts)) fail(2, 'delete needs deletes');
    const ops: JournalOp[] = [];
    let n = 0;
    const c = this.catalog.get(db, name);
    const writeErrors = await this.statements(cmd, stmts, ops, (raw) => {
      const stmt = doc(raw);
      if (!c) return;
      const limit = num(stmt.limit, 0);
      const matches = c.query(doc(stmt.q), [], limit === 1 ? 1 : 0, 0, stmt.hint).docs;
      for (const d of matches) {
        c.remove(d);
        ops.push({ op: 'delete', db, coll: name, id: d._id });
        n++;
      }
    });
    return withWriteErrors({ n, ok: 1 }, writeErrors);
  }

  async findAndModify(db: string, cmd: Document, cmdName: string): Promise<Document> {
    const name = str(cmd[cmdName], 'findAndModify');
    const q = doc(cmd.query);
    const remove = cmd.remove === true;
    const returnNew = cmd.new === true;
    const upsert = cmd.upsert === true;
    if (remove && (cmd.update !== undefined || upsert))
      fail(9, 'Cannot specify both an update and remove=true');
    if (!remove && cmd.update === undefined) fail(9, 'Either an update or remove=true must be specified');
    const ops: JournalOp[] = [];
    const sort = parseSort(cmd.sort);
    const fields = cmd.fields;
    const shape = (d: Document | undefined): Document | null =>
      d ? (project([d], fields)[0] ?? null) : null;
    let reply: Document;
    if (remove) {
      const c = this.catalog.get(db, name);
      const d = c?.query(q, sort, 1, 0, cmd.hint).docs[0];
      if (c && d) {
        c.remove(d);
        ops.push({ op: 'delete', db, coll: name, id: d._id });
      }
      reply = { lastErrorObject: { n: d ? 1 : 0 }, value: shape(d), ok: 1 };
    } else {
      const c = upsert ? this.catalog.forWrite(db, name, ops) : this.catalog.get(db, name);
      if (!c) {
        reply = { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
      } else {
        const before = c.query(q, sort, 1, 0, cmd.hint).docs[0];
        const arrayFilters = Array.isArray(cmd.arrayFilters) ? (cmd.arrayFilters as Document[]) : undefined;
        let r: ReturnType<WriteCommands['updateOne']>;
        try {
          r = this.updateOne(
            db,
            c,
            { q: before ? { _id: before._id } : q, u: cmd.update, upsert, arrayFilters },
            ops,
            q,
          );
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

  /**
   * Applies a write command's statements in order, each failure a write error (an ordered command
   * stops at the first), then makes what they did durable. Returns the write errors.
   */
  private async statements(
    cmd: Document,
    items: unknown[],
    ops: JournalOp[],
    apply: (item: unknown, index: number) => void,
  ): Promise<Document[]> {
    const writeErrors: Document[] = [];
    for (let i = 0; i < items.length; i++) {
      try {
        apply(items[i], i);
      } catch (err) {
        writeErrors.push(writeErrorOf(i, err));
        if (cmd.ordered !== false) break;
      }
    }
    await this.persist(ops, journaled(cmd));
    return writeErrors;
  }
}

function withWriteErrors(reply: Document, writeErrors: Document[]): Document {
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  return reply;
}
