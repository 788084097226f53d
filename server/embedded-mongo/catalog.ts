import type { Document } from 'bson';
import { Collection } from './collection.js';
import { fail } from './errors.js';
import type { JournalOp } from './persistence/types.js';

const NO_COLLECTIONS: ReadonlyMap<string, Collection> = new Map();

/** The store's databases and their collections, by name. */
export class Catalog {
  private readonly byDb = new Map<string, Map<string, Collection>>();

  /** Every database and its collections. */
  get dbs(): ReadonlyMap<string, ReadonlyMap<string, Collection>> {
    return this.byDb;
  }

  /** A database's collections (none when it does not exist). */
  collections(db: string): ReadonlyMap<string, Collection> {
    return this.byDb.get(db) ?? NO_COLLECTIONS;
  }

  has(db: string): boolean {
    return this.byDb.has(db);
  }

  get(db: string, name: string): Collection | undefined {
    return this.byDb.get(db)?.get(name);
  }

  drop(db: string, name: string): void {
    this.byDb.get(db)?.delete(name);
  }

  dropDatabase(db: string): void {
    this.byDb.delete(db);
  }

  /** The collection, created (not journaled) if missing. */
  ensure(db: string, name: string, options: Document = {}): Collection {
    let colls = this.byDb.get(db);
    if (!colls) {
      colls = new Map();
      this.byDb.set(db, colls);
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
