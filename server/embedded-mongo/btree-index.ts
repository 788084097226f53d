import type { Document } from 'bson';
import { fail } from './errors.js';
import { compileFilter } from './query.js';
import { compareValues, keyString, pathValues } from './values.js';

/**
 * A secondary (or `_id`) index: a sorted array of entries (key tuple, then `_id` as tiebreak),
 * searched by binary search in BSON order. Multikey: an array value gives one entry per element.
 */

export interface IndexEntry {
  key: unknown[];
  id: unknown;
  idKey: string;
}

export interface IndexSpec {
  v: number;
  key: Document;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
  expireAfterSeconds?: number;
  [k: string]: unknown;
}

export class Index {
  readonly spec: IndexSpec;
  readonly fields: string[];
  readonly paths: string[][];
  readonly dirs: (1 | -1)[];
  readonly unique: boolean;
  readonly sparse: boolean;
  readonly partial: ((doc: unknown) => boolean) | undefined;
  entries: IndexEntry[] = [];
  multikey = false;

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.fields = Object.keys(spec.key);
    this.paths = this.fields.map((f) => f.split('.'));
    this.dirs = this.fields.map((f) => {
      const d = spec.key[f];
      if (typeof d === 'string') fail(67, `Index type '${d}' is not supported by this store`);
      return Number(d) < 0 ? -1 : 1;
    });
    this.unique = spec.unique === true || spec.name === '_id_';
    this.sparse = spec.sparse === true;
    this.partial = spec.partialFilterExpression ? compileFilter(spec.partialFilterExpression) : undefined;
  }

  get name(): string {
    return this.spec.name;
  }

  /** Compares two key tuples in this index's order (directions applied). */
  compareKeys(a: unknown[], b: unknown[], len = this.fields.length): number {
    for (let i = 0; i < len; i++) {
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return c * (this.dirs[i] ?? 1);
    }
    return 0;
  }

  private compareEntries(a: IndexEntry, b: IndexEntry): number {
    return this.compareKeys(a.key, b.key) || compareValues(a.id, b.id);
  }

  /** The key tuples a document has in this index (none when partial/sparse excludes it). */
  keysFor(doc: Document): unknown[][] {
    if (this.partial && !this.partial(doc)) return [];
    const perField = this.paths.map((p) => {
      const vals = pathValues(doc, p);
      const out: unknown[] = [];
      let present = false;
      for (const v of vals) {
        if (v !== undefined) present = true;
        if (Array.isArray(v)) {
          if (v.length === 0) out.push(undefined);
          else out.push(...v);
        } else out.push(v === undefined ? null : v);
      }
      if (out.length === 0) out.push(null);
      return { out, present, array: vals.some((v) => Array.isArray(v)) || vals.length > 1 };
    });
    if (this.sparse && !perField.some((f) => f.present)) return [];
    let keys: unknown[][] = [[]];
    for (const f of perField) {
      if (f.array) this.multikey = true;
      const uniq = f.out.length > 1 ? dedupe(f.out) : f.out;
      const next: unknown[][] = [];
      for (const k of keys) for (const v of uniq) next.push([...k, v === undefined ? null : v]);
      keys = next;
    }
    return keys;
  }

  /** First position whose entry is >= the probe (key prefix of length `len`, then `_id`). */
  lowerBound(key: unknown[], len: number, inclusive: boolean): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.compareKeys((this.entries[mid] as IndexEntry).key, key, len);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private position(e: IndexEntry): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareEntries(this.entries[mid] as IndexEntry, e) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** An entry of another document with the same key, if this is a unique index. */
  findDuplicate(keys: unknown[][], idKey: string): IndexEntry | undefined {
    if (!this.unique) return undefined;
    const n = this.fields.length;
    for (const key of keys) {
      let i = this.lowerBound(key, n, true);
      while (i < this.entries.length) {
        const e = this.entries[i] as IndexEntry;
        if (this.compareKeys(e.key, key) !== 0) break;
        if (e.idKey !== idKey) return e;
        i++;
      }
    }
    return undefined;
  }

  add(keys: unknown[][], id: unknown, idKey: string): void {
    for (const key of keys) {
      const e: IndexEntry = { key, id, idKey };
      const n = this.entries.length;
      // Appending in order (increasing ids, sequence numbers) is the common case.
      if (n === 0 || this.compareEntries(this.entries[n - 1] as IndexEntry, e) < 0) this.entries.push(e);
      else this.entries.splice(this.position(e), 0, e);
    }
  }

  remove(keys: unknown[][], id: unknown, idKey: string): void {
    for (const key of keys) {
      const probe: IndexEntry = { key, id, idKey };
      const i = this.position(probe);
      const e = this.entries[i];
      if (e && e.idKey === idKey) this.entries.splice(i, 1);
    }
  }

  duplicateError(db: string, coll: string, key: unknown[]): never {
    const keyPattern: Document = {};
    const keyValue: Document = {};
    this.fields.forEach((f, i) => {
      keyPattern[f] = this.spec.key[f];
      keyValue[f] = key[i];
    });
    const shown = this.fields.map((f, i) => `${f}: ${showValue(key[i])}`).join(', ');
    fail(11000, `E11000 duplicate key error collection: ${db}.${coll} index: ${this.name} dup key: { ${shown} }`, {
      keyPattern,
      keyValue,
    });
  }
}

function dedupe(vals: unknown[]): unknown[] {
  const seen = new Set<string>();
  const out: unknown[] = [];
  for (const v of vals) {
    const k = keyString(v);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(v);
    }
  }
  return out;
}

export function showValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (typeof v === 'object' && '_bsontype' in v) {
    const t = (v as { _bsontype: string })._bsontype;
    if (t === 'ObjectId') return `ObjectId('${String(v)}')`;
    return `${t}(${String(v)})`;
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
