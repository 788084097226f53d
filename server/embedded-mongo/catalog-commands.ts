import { calculateObjectSize } from 'bson';
import type { Document } from 'bson';
import type { IndexSpec } from './btree-index.js';
import type { Catalog } from './catalog.js';
import { cursorBatchSize, doc, str, type Persist } from './command-args.js';
import type { Cursors } from './cursors.js';
import { fail } from './errors.js';
import type { JournalOp } from './persistence/types.js';
import { compileFilter } from './query.js';
import { isPlainObject, keyString } from './values.js';

/** Collections, indexes and databases: create, drop, list, and their statistics. */
export class CatalogCommands {
  constructor(
    private readonly catalog: Catalog,
    private readonly cursors: Cursors,
    private readonly persist: Persist,
  ) {}

  async create(db: string, cmd: Document): Promise<Document> {
    const name = str(cmd.create, 'create');
    if (this.catalog.get(db, name)) fail(48, `Collection ${db}.${name} already exists.`);
    if (cmd.viewOn !== undefined) fail(115, 'views are not supported by this store');
    const options: Document = {};
    for (const k of Object.keys(cmd)) {
      if (k === 'create' || k.startsWith('$') || k === 'lsid' || k === 'writeConcern' || k === 'comment')
        continue;
      options[k] = cmd[k];
    }
    this.catalog.ensure(db, name, options);
    await this.persist([{ op: 'createCollection', db, coll: name, options }], true);
    return { ok: 1 };
  }

  async drop(db: string, cmd: Document): Promise<Document> {
    const name = str(cmd.drop, 'drop');
    const c = this.catalog.get(db, name);
    if (!c) return { ok: 1 };
    this.catalog.drop(db, name);
    await this.persist([{ op: 'dropCollection', db, coll: name }], true);
    return { nIndexesWas: c.indexes.size, ns: `${db}.${name}`, ok: 1 };
  }

  async dropDatabase(db: string): Promise<Document> {
    if (this.catalog.has(db)) {
      this.catalog.dropDatabase(db);
      await this.persist([{ op: 'dropDatabase', db }], true);
    }
    return { dropped: db, ok: 1 };
  }

  async createIndexes(db: string, cmd: Document): Promise<Document> {
    const name = str(cmd.createIndexes, 'createIndexes');
    const specs = cmd.indexes;
    if (!Array.isArray(specs) || specs.length === 0) fail(2, 'Must specify at least one index to create');
    const ops: JournalOp[] = [];
    const existed = this.catalog.get(db, name) !== undefined;
    const c = this.catalog.forWrite(db, name, ops);
    const before = c.indexes.size;
    let note: string | undefined;
    for (const raw of specs as unknown[]) {
      const s = doc(raw);
      if (!isPlainObject(s.key) || Object.keys(s.key).length === 0)
        fail(67, 'Index key pattern must be a non-empty object');
      const key = s.key;
      const ixName =
        typeof s.name === 'string'
          ? s.name
          : Object.keys(key)
              .map((k) => `${k}_${String(key[k])}`)
              .join('_');
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
          fail(
            86,
            `An existing index has the same name as the requested index. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName.spec)}`,
          );
        }
        if (keyString({ ...sameName.spec }) !== keyString(spec) && ixName !== '_id_') {
          fail(
            85,
            `An equivalent index already exists with the same name but different options. Requested index: ${JSON.stringify(spec)}`,
          );
        }
        note = 'all indexes already exist';
        continue;
      }
      if (
        sameKey &&
        keyString(sameKey.spec.partialFilterExpression) === keyString(spec.partialFilterExpression)
      ) {
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

  listIndexes(db: string, cmd: Document): Document {
    const name = str(cmd.listIndexes, 'listIndexes');
    const c = this.catalog.get(db, name);
    if (!c) fail(26, `ns does not exist: ${db}.${name}`);
    return this.cursors.reply(`${db}.${name}`, c.indexSpecs(), cursorBatchSize(cmd, 0), false);
  }

  async dropIndexes(db: string, cmd: Document, cmdName: string): Promise<Document> {
    const name = str(cmd[cmdName], 'dropIndexes');
    const c = this.catalog.get(db, name);
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

  listCollections(db: string, cmd: Document): Document {
    const filter = compileFilter(cmd.filter);
    const nameOnly = cmd.nameOnly === true;
    const out: Document[] = [];
    for (const [name, c] of this.catalog.collections(db)) {
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
    return this.cursors.reply(`${db}.$cmd.listCollections`, out, cursorBatchSize(cmd, 0), false);
  }

  listDatabases(cmd: Document): Document {
    const filter = compileFilter(cmd.filter);
    const databases: Document[] = [];
    let total = 0;
    for (const [name, colls] of this.catalog.dbs) {
      let size = 0;
      for (const c of colls.values()) size += c.docs.size * 256;
      const entry = { name, sizeOnDisk: size, empty: colls.size === 0 };
      if (!filter(entry)) continue;
      total += size;
      databases.push(cmd.nameOnly === true ? { name } : entry);
    }
    return { databases, totalSize: total, totalSizeMb: Math.round(total / 1048576), ok: 1 };
  }

  collStats(db: string, cmd: Document): Document {
    const name = str(cmd.collStats, 'collStats');
    const c = this.catalog.get(db, name);
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

  dbStats(db: string): Document {
    const colls = this.catalog.collections(db);
    let objects = 0;
    let indexes = 0;
    for (const c of colls.values()) {
      objects += c.docs.size;
      indexes += c.indexes.size;
    }
    return { db, collections: colls.size, views: 0, objects, indexes, dataSize: 0, storageSize: 0, ok: 1 };
  }
}
