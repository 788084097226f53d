import type { Document } from 'bson';
import { Collection } from './collection.js';
import { fail } from './errors.js';
import type { JournalOp } from './persistence/types.js';

/** The store's databases and their collections, by name. */
export class Catalog {
  readonly dbs = new Map<string, Map<string, Collection>>();

  get(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** The collection, created (not journaled) if missing. */
  ensure(db: string, name: string, options: Document = {}): Collection {
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

  /** The collection, created (and journaled) if missing. */
  forWrite(db: string, name: string, ops: JournalOp[]): Collection {
    const c = this.get(db, name);
    if (c) return c;
    if (name.includes('$') || name === '') fail(73, `Invalid collection name: ${name}`);
    ops.push({ op: 'createCollection', db, coll: name, options: {} });
    return this.ensure(db, name);
  }
}
