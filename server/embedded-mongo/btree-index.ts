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

/** A position in an index: block and offset. */
export interface Pos {
  b: number;
  o: number;
}

const BLOCK = 512;

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

  /** Entries in order, as a list of sorted blocks (inserts and deletes move at most one block). */
  private blocks: IndexEntry[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** First position whose entry is not before `probe` (`before(e)` is true for entries before it). */
  private seek(before: (e: IndexEntry) => boolean): Pos {
    const blocks = this.blocks;
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const blk = blocks[mid] as IndexEntry[];
      if (before(blk[blk.length - 1] as IndexEntry)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === blocks.length) return { b: lo, o: 0 };
    const blk = blocks[lo] as IndexEntry[];
    let l = 0;
    let h = blk.length;
    while (l < h) {
      const mid = (l + h) >>> 1;
      if (before(blk[mid] as IndexEntry)) l = mid + 1;
      else h = mid;
    }
    return { b: lo, o: l };
  }

  /** First position whose key prefix (length `len`) is >= `key` (> when not inclusive). */
  lowerBound(key: unknown[], len: number, inclusive: boolean): Pos {
    // The hottest search of the store (every insert and every indexed query): a plain binary
    // search, first over the blocks' last entries, then in the block, without a callback.
    const blocks = this.blocks;
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const blk = blocks[mid] as IndexEntry[];
      const c = this.compareKeys((blk[blk.length - 1] as IndexEntry).key, key, len);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === blocks.length) return { b: lo, o: 0 };
    const blk = blocks[lo] as IndexEntry[];
    let l = 0;
    let h = blk.length;
    while (l < h) {
      const mid = (l + h) >>> 1;
      const c = this.compareKeys((blk[mid] as IndexEntry).key, key, len);
      if (c < 0 || (c === 0 && !inclusive)) l = mid + 1;
      else h = mid;
    }
    return { b: lo, o: l };
  }

  /** The first position, or the end. */
  start(): Pos {
    return { b: 0, o: 0 };
  }

  /** Visits entries from `pos` forward (or, backward, from the entry just before `pos`) until `visit` returns false. */
  scan(pos: Pos, backward: boolean, visit: (e: IndexEntry) => boolean): void {
    const blocks = this.blocks;
    if (!backward) {
      for (let b = pos.b, o = pos.o; b < blocks.length; b++, o = 0) {
        const blk = blocks[b] as IndexEntry[];
        for (; o < blk.length; o++) if (!visit(blk[o] as IndexEntry)) return;
      }
      return;
    }
    let b = pos.b;
    let o = pos.o - 1;
    if (o < 0) {
      b--;
      o = b >= 0 ? (blocks[b] as IndexEntry[]).length - 1 : -1;
    }
    for (; b >= 0; b--) {
      const blk = blocks[b] as IndexEntry[];
      if (o < 0) o = blk.length - 1;
      for (; o >= 0; o--) if (!visit(blk[o] as IndexEntry)) return;
    }
  }

  /** An entry of another document with the same key, if this is a unique index. */
  findDuplicate(keys: unknown[][], idKey: string): IndexEntry | undefined {
    if (!this.unique) return undefined;
    const n = this.fields.length;
    for (const key of keys) {
      let found: IndexEntry | undefined;
      this.scan(this.lowerBound(key, n, true), false, (e) => {
        if (this.compareKeys(e.key, key) !== 0) return false;
        if (e.idKey !== idKey) {
          found = e;
          return false;
        }
        return true;
      });
      if (found) return found;
    }
    return undefined;
  }

  add(keys: unknown[][], id: unknown, idKey: string): void {
    for (const key of keys) {
      const e: IndexEntry = { key, id, idKey };
      this.insertAt(e, this.placeFor(e));
    }
  }

  /**
   * Where an entry goes: after the last one when it sorts last (appending in order, by increasing
   * ids or sequence numbers, is the common case), else found by one search. Valid until the index
   * next changes.
   */
  placeFor(e: IndexEntry): Pos {
    const blocks = this.blocks;
    const lastBlk = blocks[blocks.length - 1];
    if (!lastBlk) return { b: 0, o: 0 };
    if (this.compareEntries(lastBlk[lastBlk.length - 1] as IndexEntry, e) < 0) return { b: blocks.length - 1, o: lastBlk.length };
    return this.seek((x) => this.compareEntries(x, e) < 0);
  }

  /** For a unique index: another document's entry with the key of `e`, beside its place. */
  duplicateAt(e: IndexEntry, pos: Pos): IndexEntry | undefined {
    if (!this.unique) return undefined;
    for (const neighbour of [this.entryAt(pos.b, pos.o), this.entryAt(pos.b, pos.o - 1)]) {
      if (neighbour && neighbour.idKey !== e.idKey && this.compareKeys(neighbour.key, e.key) === 0) return neighbour;
    }
    return undefined;
  }

  /** Inserts `e` at the place placeFor() gave. */
  insertAt(e: IndexEntry, pos: Pos): void {
    this.count++;
    const blocks = this.blocks;
    if (blocks.length === 0) {
      blocks.push([e]);
      return;
    }
    const b = Math.min(pos.b, blocks.length - 1);
    const blk = blocks[b] as IndexEntry[];
    const o = pos.b === b ? pos.o : blk.length;
    if (o === blk.length && b === blocks.length - 1 && blk.length >= BLOCK) {
      blocks.push([e]);
      return;
    }
    blk.splice(o, 0, e);
    if (blk.length > 2 * BLOCK) blocks.splice(b, 1, blk.slice(0, BLOCK), blk.slice(BLOCK));
  }

  /** The entry at block b, offset o (o may be -1 or past the block: the neighbouring block's). */
  private entryAt(b: number, o: number): IndexEntry | undefined {
    const blocks = this.blocks;
    if (o < 0) return b > 0 ? blocks[b - 1]?.at(-1) : undefined;
    const blk = blocks[b];
    if (!blk) return undefined;
    return o < blk.length ? blk[o] : blocks[b + 1]?.[0];
  }

  remove(keys: unknown[][], id: unknown, idKey: string): void {
    for (const key of keys) {
      const probe: IndexEntry = { key, id, idKey };
      const pos = this.seek((x) => this.compareEntries(x, probe) < 0);
      const blk = this.blocks[pos.b];
      const e = blk?.[pos.o];
      if (blk && e && e.idKey === idKey) {
        blk.splice(pos.o, 1);
        this.count--;
        if (blk.length === 0) this.blocks.splice(pos.b, 1);
      }
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
