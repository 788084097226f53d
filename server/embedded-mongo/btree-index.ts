import type { Document } from 'bson';
import { fail } from './errors.js';
import { compileFilter } from './query.js';
import { IndexKeys } from './index-keys.js';
import { compareValues, keyString } from './values.js';

/**
 * A secondary (or `_id`) index: entries (key tuple, then `_id` as tiebreak) in BSON order, kept
 * in sorted blocks and found by binary search. Multikey: an array value gives one entry per
 * element.
 *
 * Searches of a large index are memory-bound (several µs each at 100,000 entries), and an insert
 * used to make one per index: a third of the store thread's time under message load. So:
 * - a compound index is partitioned by its first field: one block per value (a room, a user),
 *   found through a map; an insert searches only its partition, and usually appends to it;
 * - the `_id` index and unique compound indexes defer: new entries wait in arrival order until
 *   a query or a removal needs the index's order (settle). Their uniqueness is checked without
 *   the order: the collection's map of documents for `_id`, a map of held keys otherwise.
 */

export interface IndexEntry {
  key: unknown[];
  id: unknown;
  idKey: string;
}

/** A position in an index: block and offset; `fresh` places a new partition's first entry there. */
export interface Pos {
  b: number;
  o: number;
  fresh?: true;
}

const BLOCK = 512;
/** A first field with nearly as many values as entries gains nothing from partitions: plain blocks then. */
const MAX_PARTITIONS = 4096;
/** Waiting entries up to this many are placed one by one; more are merged in one pass. */
const SETTLE_ONE_BY_ONE = 64;

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
  readonly dirs: (1 | -1)[];
  readonly unique: boolean;
  readonly sparse: boolean;
  private readonly keys: IndexKeys;

  /** Entries in order: sorted blocks, or (partitioned) one block per first-field value. */
  private blocks: IndexEntry[][] = [];
  private count = 0;
  /** Partitioned: each first-field value's block (by keyString), and each block's place in `blocks`. */
  private partitions: Map<string, IndexEntry[]> | undefined;
  private readonly rankOf = new Map<IndexEntry[], number>();
  /** Deferring: entries not placed yet, counted in `size`. */
  private readonly waiting: IndexEntry[] | undefined;
  /** Deferring and unique (but `_id`): the document that holds each key tuple (by tupleKey). */
  private readonly holders: Map<string, string> | undefined;

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.fields = Object.keys(spec.key);
    this.dirs = this.fields.map((f) => {
      const d = spec.key[f];
      if (typeof d === 'string') fail(67, `Index type '${d}' is not supported by this store`);
      return Number(d) < 0 ? -1 : 1;
    });
    this.unique = spec.unique === true || spec.name === '_id_';
    this.sparse = spec.sparse === true;
    const partial = spec.partialFilterExpression ? compileFilter(spec.partialFilterExpression) : undefined;
    this.keys = new IndexKeys(this.fields, this.sparse, partial);
    if (this.fields.length > 1) this.partitions = new Map();
    if (spec.name === '_id_' || (this.unique && this.partitions)) this.waiting = [];
    if (this.waiting && spec.name !== '_id_') this.holders = new Map();
  }

  get name(): string {
    return this.spec.name;
  }

  get size(): number {
    return this.count;
  }

  /** Whether inserts go through add() (deferred) rather than placeFor/insertAt. */
  get defers(): boolean {
    return this.waiting !== undefined;
  }

  /** Compares two key tuples in this index's order (directions applied), from field `from` on. */
  compareKeys(a: unknown[], b: unknown[], len = this.fields.length, from = 0): number {
    for (let i = from; i < len; i++) {
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return c * (this.dirs[i] ?? 1);
    }
    return 0;
  }

  /** Entries in index order; `from` 1 skips the first field, equal within a partition. */
  private compareEntries(a: IndexEntry, b: IndexEntry, from = 0): number {
    return this.compareKeys(a.key, b.key, this.fields.length, from) || compareValues(a.id, b.id);
  }

  /** The key tuples a document has in this index (none when partial/sparse excludes it). */
  keysFor(doc: Document): unknown[][] {
    return this.keys.of(doc);
  }

  /** Whether a document has given more than one key (an array value): see IndexKeys. */
  get multikey(): boolean {
    return this.keys.multikey;
  }

  /** First position whose key prefix (length `len`) is >= `key` (> when not inclusive). */
  lowerBound(key: unknown[], len: number, inclusive: boolean): Pos {
    this.settle();
    const before = (e: IndexEntry, from: number): boolean => {
      const c = this.compareKeys(e.key, key, len, from);
      return c < 0 || (c === 0 && !inclusive);
    };
    if (this.partitions && len > 0) {
      const blk = this.partitions.get(keyString(key[0]));
      if (!blk) return { b: this.partitionRank(key[0]), o: 0 };
      const b = this.rankOf.get(blk)!;
      if (len === 1) return inclusive ? { b, o: 0 } : { b: b + 1, o: 0 };
      return { b, o: searchBlock(blk, (e) => before(e, 1)) };
    }
    return this.seek((e) => before(e, 0));
  }

  /** The first position, or the end. */
  start(): Pos {
    this.settle();
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
    if (this.waiting) {
      // The `_id` index leaves uniqueness to the collection's map of documents.
      for (const key of keys) {
        const holder = this.holders?.get(tupleKey(key));
        if (holder !== undefined && holder !== idKey) return { key, id: undefined, idKey: holder };
      }
      return undefined;
    }
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
      if (this.waiting) {
        this.count++;
        this.waiting.push(e);
        this.holders?.set(tupleKey(key), idKey);
      } else this.insertAt(e, this.placeFor(e));
    }
  }

  /**
   * Where an entry goes: after the last one (of its partition) when it sorts last (appending in
   * order, by increasing ids or sequence numbers, is the common case), else found by one search.
   * Valid until the index next changes.
   */
  placeFor(e: IndexEntry): Pos {
    if (this.partitions) {
      const blk = this.partitions.get(keyString(e.key[0]));
      if (!blk) return { b: this.partitionRank(e.key[0]), o: 0, fresh: true };
      const b = this.rankOf.get(blk)!;
      if (this.compareEntries(blk[blk.length - 1] as IndexEntry, e, 1) < 0) return { b, o: blk.length };
      return { b, o: searchBlock(blk, (x) => this.compareEntries(x, e, 1) < 0) };
    }
    const blocks = this.blocks;
    const lastBlk = blocks[blocks.length - 1];
    if (!lastBlk) return { b: 0, o: 0 };
    if (this.compareEntries(lastBlk[lastBlk.length - 1] as IndexEntry, e) < 0)
      return { b: blocks.length - 1, o: lastBlk.length };
    return this.seek((x) => this.compareEntries(x, e) < 0);
  }

  /** For a unique index: another document's entry with the key of `e`, beside its place. */
  duplicateAt(e: IndexEntry, pos: Pos): IndexEntry | undefined {
    if (!this.unique) return undefined;
    for (const neighbour of [this.entryAt(pos.b, pos.o), this.entryAt(pos.b, pos.o - 1)]) {
      if (neighbour && neighbour.idKey !== e.idKey && this.compareKeys(neighbour.key, e.key) === 0)
        return neighbour;
    }
    return undefined;
  }

  /** Inserts `e` at the place placeFor() gave. */
  insertAt(e: IndexEntry, pos: Pos): void {
    this.count++;
    const blocks = this.blocks;
    if (this.partitions) {
      if (!pos.fresh) {
        (blocks[pos.b] as IndexEntry[]).splice(pos.o, 0, e);
        return;
      }
      this.addPartition(pos.b, [e]);
      return;
    }
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

  remove(keys: unknown[][], id: unknown, idKey: string): void {
    this.settle();
    for (const key of keys) {
      if (this.holders?.get(tupleKey(key)) === idKey) this.holders.delete(tupleKey(key));
      const probe: IndexEntry = { key, id, idKey };
      if (this.partitions) {
        const blk = this.partitions.get(keyString(key[0]));
        if (!blk) continue;
        const o = searchBlock(blk, (x) => this.compareEntries(x, probe, 1) < 0);
        if (blk[o]?.idKey !== idKey) continue;
        blk.splice(o, 1);
        this.count--;
        if (blk.length === 0) {
          const b = this.rankOf.get(blk)!;
          this.blocks.splice(b, 1);
          this.partitions.delete(keyString(key[0]));
          this.rankOf.delete(blk);
          this.renumber(b);
        }
        continue;
      }
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
    return { b: lo, o: searchBlock(blocks[lo] as IndexEntry[], before) };
  }

  /** The entry at block b, offset o (o may be -1 or past the block: the neighbouring block's). */
  private entryAt(b: number, o: number): IndexEntry | undefined {
    const blocks = this.blocks;
    if (o < 0) return b > 0 ? blocks[b - 1]?.at(-1) : undefined;
    const blk = blocks[b];
    if (!blk) return undefined;
    return o < blk.length ? blk[o] : blocks[b + 1]?.[0];
  }

  /** Places the waiting entries, sorted first: few one by one, many by merging sorted runs. */
  private settle(): void {
    const waiting = this.waiting;
    if (!waiting || waiting.length === 0) return;
    const entries = waiting.splice(0).sort((a, b) => this.compareEntries(a, b));
    if (entries.length <= SETTLE_ONE_BY_ONE) {
      this.count -= entries.length; // insertAt counts them again
      for (const e of entries) this.insertAt(e, this.placeFor(e));
      return;
    }
    // Runs of one first-field value each merge into that value's partition.
    let i = 0;
    while (this.partitions && i < entries.length) {
      const k = keyString(entries[i]!.key[0]);
      let j = i + 1;
      while (j < entries.length && keyString(entries[j]!.key[0]) === k) j++;
      const run = entries.slice(i, j);
      const blk = this.partitions.get(k);
      if (blk) {
        const merged = this.merge(blk, run, 1);
        blk.length = 0;
        for (const e of merged) blk.push(e);
      } else this.addPartition(this.partitionRank(run[0]!.key[0]), run);
      i = j;
    }
    if (i >= entries.length) return;
    // Plain blocks (or unpartitioned on the way): one merge of the rest.
    const merged = this.merge(this.blocks.flat(), i === 0 ? entries : entries.slice(i), 0);
    this.blocks = [];
    for (let k = 0; k < merged.length; k += BLOCK) this.blocks.push(merged.slice(k, k + BLOCK));
  }

  /** Two sorted runs as one. */
  private merge(a: IndexEntry[], b: IndexEntry[], from: number): IndexEntry[] {
    const out: IndexEntry[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length)
      out.push(this.compareEntries(a[i]!, b[j]!, from) <= 0 ? a[i++]! : b[j++]!);
    while (i < a.length) out.push(a[i++]!);
    while (j < b.length) out.push(b[j++]!);
    return out;
  }

  private addPartition(rank: number, blk: IndexEntry[]): void {
    this.blocks.splice(rank, 0, blk);
    this.partitions!.set(keyString(blk[0]!.key[0]), blk);
    this.renumber(rank);
    if (this.partitions!.size > MAX_PARTITIONS && this.partitions!.size * 8 > this.count) this.unpartition();
  }

  /** Where the partition of a first-field value that has none would go: before the first that sorts after it. */
  private partitionRank(value: unknown): number {
    const dir = this.dirs[0] ?? 1;
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareValues((this.blocks[mid] as IndexEntry[])[0]!.key[0], value) * dir < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private renumber(from: number): void {
    for (let b = from; b < this.blocks.length; b++) this.rankOf.set(this.blocks[b] as IndexEntry[], b);
  }

  /** Back to plain blocks of at most BLOCK entries, in the same order. */
  private unpartition(): void {
    const all = this.blocks.flat();
    this.partitions = undefined;
    this.rankOf.clear();
    this.blocks = [];
    for (let i = 0; i < all.length; i += BLOCK) this.blocks.push(all.slice(i, i + BLOCK));
  }

  duplicateError(db: string, coll: string, key: unknown[]): never {
    const keyPattern: Document = {};
    const keyValue: Document = {};
    this.fields.forEach((f, i) => {
      keyPattern[f] = this.spec.key[f];
      keyValue[f] = key[i];
    });
    const shown = this.fields.map((f, i) => `${f}: ${showValue(key[i])}`).join(', ');
    fail(
      11000,
      `E11000 duplicate key error collection: ${db}.${coll} index: ${this.name} dup key: { ${shown} }`,
      {
        keyPattern,
        keyValue,
      },
    );
  }
}

/** The first offset in a sorted block whose entry is not `before`. */
function searchBlock(blk: IndexEntry[], before: (e: IndexEntry) => boolean): number {
  let l = 0;
  let h = blk.length;
  while (l < h) {
    const mid = (l + h) >>> 1;
    if (before(blk[mid] as IndexEntry)) l = mid + 1;
    else h = mid;
  }
  return l;
}

/** Equal key tuples (in BSON comparison) give equal strings. */
function tupleKey(key: unknown[]): string {
  return key.length === 1 ? keyString(key[0]) : key.map(keyString).join('\u0000');
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
