import { ObjectId } from 'bson';
import type { Document } from 'bson';
import { Index } from './btree-index.js';
import type { IndexEntry, IndexSpec, Pos } from './btree-index.js';
import { fail } from './errors.js';
import { compileFilter, sortDocs } from './query.js';
import type { SortSpec } from './query.js';
import { compareValues, isPlainObject, keyString, typeRank, valuesEqual } from './values.js';

/** What a query did, for explain and for tests of the planner. */
export interface PlanInfo {
  index: string | undefined;
  keyPattern: Document | undefined;
  direction: 'forward' | 'backward';
  sortedByIndex: boolean;
  keysExamined: number;
  docsExamined: number;
}

export interface QueryResult {
  docs: Document[];
  plan: PlanInfo;
}

interface RangeBound {
  value: unknown;
  inclusive: boolean;
}

interface FieldCond {
  eq?: unknown;
  hasEq: boolean;
  low?: RangeBound;
  high?: RangeBound;
}

const RANGE_OPS = new Set(['$gt', '$gte', '$lt', '$lte']);

function isEqValue(v: unknown): boolean {
  if (v instanceof RegExp || Array.isArray(v) || v === undefined) return false;
  if (isPlainObject(v)) return !Object.keys(v).some((k) => k.startsWith('$'));
  return true;
}

/** Top-level field conditions the planner can turn into index bounds. */
function analyzeFilter(filter: Document): Map<string, FieldCond> {
  const out = new Map<string, FieldCond>();
  const visit = (f: Document): void => {
    for (const k of Object.keys(f)) {
      const v: unknown = f[k];
      if (k === '$and' && Array.isArray(v)) {
        for (const sub of v) if (isPlainObject(sub)) visit(sub);
        continue;
      }
      if (k.startsWith('$')) continue;
      const cond = out.get(k) ?? { hasEq: false };
      if (isEqValue(v)) {
        cond.eq = v;
        cond.hasEq = true;
      } else if (isPlainObject(v)) {
        for (const op of Object.keys(v)) {
          const arg: unknown = v[op];
          if (op === '$eq' && isEqValue(arg)) {
            cond.eq = arg;
            cond.hasEq = true;
          } else if (RANGE_OPS.has(op) && arg !== null && !Array.isArray(arg) && !(arg instanceof RegExp)) {
            if (op === '$gt' || op === '$gte') cond.low = { value: arg, inclusive: op === '$gte' };
            else cond.high = { value: arg, inclusive: op === '$lte' };
          }
        }
      }
      out.set(k, cond);
    }
  };
  visit(filter);
  return out;
}

/** Whether a query implies an index's partial filter (simple forms: equal conditions, $exists: true). */
function impliesPartial(conds: Map<string, FieldCond>, filter: Document, pfe: Document): boolean {
  for (const k of Object.keys(pfe)) {
    const want: unknown = pfe[k];
    const c = conds.get(k);
    if (isPlainObject(want) && want.$exists === true && Object.keys(want).length === 1) {
      if (c && ((c.hasEq && c.eq !== null) || c.low || c.high)) continue;
      return false;
    }
    if (keyString(filter[k]) === keyString(want)) continue;
    return false;
  }
  return true;
}

export class Collection {
  readonly db: string;
  readonly name: string;
  options: Document;
  readonly docs = new Map<string, Document>();
  readonly indexes = new Map<string, Index>();

  constructor(db: string, name: string, options: Document = {}) {
    this.db = db;
    this.name = name;
    this.options = options;
    this.indexes.set('_id_', new Index({ v: 2, key: { _id: 1 }, name: '_id_' }));
  }

  indexSpecs(): Document[] {
    return [...this.indexes.values()].map((i) => ({ ...i.spec }));
  }

  findById(id: unknown): Document | undefined {
    return this.docs.get(keyString(id));
  }

  /** Adds `_id` (first) when missing. */
  static withId(doc: Document): Document {
    if (doc._id === undefined) return { _id: new ObjectId(), ...doc };
    if (Object.keys(doc)[0] === '_id') return doc;
    const { _id, ...rest } = doc;
    return { _id, ...rest };
  }

  private keysOf(doc: Document): Map<Index, unknown[][]> {
    const m = new Map<Index, unknown[][]>();
    for (const ix of this.indexes.values()) m.set(ix, ix.keysFor(doc));
    return m;
  }

  private checkUnique(keys: Map<Index, unknown[][]>, idKey: string): void {
    for (const [ix, k] of keys) {
      const dup = ix.findDuplicate(k, idKey);
      if (dup) ix.duplicateError(this.db, this.name, dup.key);
    }
  }

  /** Inserts a document that has an `_id`; throws E11000 before changing anything. */
  insert(doc: Document): void {
    if (Array.isArray(doc._id)) fail(2, 'The _id field cannot be an array');
    const idKey = keyString(doc._id);
    if (this.docs.has(idKey)) this.indexes.get('_id_')?.duplicateError(this.db, this.name, [doc._id]);
    // One search per index finds both the entry's place and, beside it, any duplicate of a unique
    // key; the places stay valid because nothing changes until every index has been checked.
    // Indexes that defer (and keys of several entries) are only checked here, and added after.
    const places: Array<{ ix: Index; entry: IndexEntry; pos: Pos }> = [];
    const later: Array<[Index, unknown[][]]> = [];
    for (const ix of this.indexes.values()) {
      const keys = ix.keysFor(doc);
      if (keys.length !== 1 || ix.defers) {
        const dup = ix.findDuplicate(keys, idKey);
        if (dup) ix.duplicateError(this.db, this.name, dup.key);
        later.push([ix, keys]);
        continue;
      }
      const entry: IndexEntry = { key: keys[0]!, id: doc._id, idKey };
      const pos = ix.placeFor(entry);
      const dup = ix.duplicateAt(entry, pos);
      if (dup) ix.duplicateError(this.db, this.name, dup.key);
      places.push({ ix, entry, pos });
    }
    for (const { ix, entry, pos } of places) ix.insertAt(entry, pos);
    for (const [ix, keys] of later) ix.add(keys, doc._id, idKey);
    this.docs.set(idKey, doc);
  }

  /** Replaces `oldDoc` by `newDoc` (same `_id`); throws E11000 before changing anything. */
  replace(oldDoc: Document, newDoc: Document): void {
    const idKey = keyString(oldDoc._id);
    const newKeys = this.keysOf(newDoc);
    this.checkUnique(newKeys, idKey);
    for (const ix of this.indexes.values()) {
      const before = ix.keysFor(oldDoc);
      const after = newKeys.get(ix) ?? [];
      const same =
        before.length === after.length && before.every((k, i) => keyString(k) === keyString(after[i]));
      if (same) continue;
      ix.remove(before, oldDoc._id, idKey);
      ix.add(after, newDoc._id, idKey);
    }
    this.docs.set(idKey, newDoc);
  }

  remove(doc: Document): void {
    const idKey = keyString(doc._id);
    for (const ix of this.indexes.values()) ix.remove(ix.keysFor(doc), doc._id, idKey);
    this.docs.delete(idKey);
  }

  /** Builds a new index over the existing documents; E11000 if a unique index finds duplicates. */
  addIndex(spec: IndexSpec): void {
    const ix = new Index(spec);
    for (const [idKey, doc] of this.docs) {
      const keys = ix.keysFor(doc);
      const dup = ix.findDuplicate(keys, idKey);
      if (dup) ix.duplicateError(this.db, this.name, dup.key);
      ix.add(keys, doc._id, idKey);
    }
    this.indexes.set(spec.name, ix);
  }

  /**
   * Runs a query: picks an index from equality prefix + range + sort, scans only the bounds, and
   * stops early when the index gives the order and a limit is known.
   */
  query(filter: Document, sort: SortSpec, limit: number, skip: number, hint?: unknown): QueryResult {
    const pred = compileFilter(filter);
    const conds = analyzeFilter(filter);
    const byId = conds.get('_id');
    if (byId?.hasEq && hint === undefined) {
      // At most one document: the map of documents finds it without the _id index.
      const doc = this.docs.get(keyString(byId.eq));
      const docs = doc && pred(doc) ? [doc] : [];
      return {
        docs: sliceResult(docs, skip, limit),
        plan: {
          index: '_id_',
          keyPattern: { _id: 1 },
          direction: 'forward',
          sortedByIndex: true,
          keysExamined: docs.length,
          docsExamined: doc ? 1 : 0,
        },
      };
    }
    const choice = this.chooseIndex(conds, filter, sort, hint);
    if (!choice) {
      const docs: Document[] = [];
      let examined = 0;
      // Without a sort, a limit ends the scan early.
      const want = sort.length === 0 && limit > 0 ? skip + limit : Infinity;
      for (const d of this.docs.values()) {
        examined++;
        if (pred(d)) {
          docs.push(d);
          if (docs.length >= want) break;
        }
      }
      const sorted = sortDocs(docs, sort);
      return {
        docs: sliceResult(sorted, skip, limit),
        plan: {
          index: undefined,
          keyPattern: undefined,
          direction: 'forward',
          sortedByIndex: false,
          keysExamined: 0,
          docsExamined: examined,
        },
      };
    }
    const { ix, eqCount, range, sortedByIndex, reverse } = choice;
    const eqKey = ix.fields.slice(0, eqCount).map((f) => conds.get(f)?.eq);
    const rangeField = range ? ix.fields[eqCount] : undefined;
    const rc = rangeField ? conds.get(rangeField) : undefined;
    const rdir = ix.dirs[eqCount] ?? 1;
    // Bounds in index order: "start" is the low value for an ascending field, the high for descending.
    const start = rc ? (rdir === 1 ? rc.low : rc.high) : undefined;
    const end = rc ? (rdir === 1 ? rc.high : rc.low) : undefined;
    const bracketRank = rc ? typeRank((rc.low ?? rc.high)?.value) : undefined;
    const want = sortedByIndex && limit > 0 ? skip + limit : Infinity;
    const seen = ix.multikey ? new Set<string>() : undefined;
    const out: Document[] = [];
    let keysExamined = 0;
    let docsExamined = 0;
    let sawInRange = false;

    const inBounds = (e: IndexEntry): 'in' | 'skip' | 'stop' => {
      for (let i = 0; i < eqCount; i++) {
        if (!valuesEqual(e.key[i], eqKey[i]) || typeRank(e.key[i]) !== typeRank(eqKey[i])) return 'stop';
      }
      if (rc) {
        const v = e.key[eqCount];
        if (typeRank(v) !== bracketRank) return sawInRange ? 'stop' : 'skip';
        const lowC = rc.low ? compareValues(v, rc.low.value) : 1;
        const highC = rc.high ? compareValues(v, rc.high.value) : -1;
        const lowOk = lowC > 0 || (lowC === 0 && rc.low?.inclusive === true);
        const highOk = highC < 0 || (highC === 0 && rc.high?.inclusive === true);
        if (!lowOk || !highOk) {
          // Outside on the far side of the scan: done. On the near side (not reached yet): skip.
          return sawInRange ? 'stop' : 'skip';
        }
        sawInRange = true;
      }
      return 'in';
    };

    const visit = (e: IndexEntry): boolean => {
      keysExamined++;
      const b = inBounds(e);
      if (b === 'stop') return false;
      if (b === 'skip') return true;
      if (seen) {
        if (seen.has(e.idKey)) return true;
        seen.add(e.idKey);
      }
      const doc = this.docs.get(e.idKey);
      if (!doc) return true;
      docsExamined++;
      if (pred(doc)) out.push(doc);
      return out.length < want;
    };

    if (!reverse) {
      const from =
        start !== undefined
          ? ix.lowerBound([...eqKey, start.value], eqCount + 1, start.inclusive)
          : ix.lowerBound(eqKey, eqCount, true);
      ix.scan(from, false, visit);
    } else {
      const from =
        end !== undefined
          ? ix.lowerBound([...eqKey, end.value], eqCount + 1, !end.inclusive)
          : ix.lowerBound(eqKey, eqCount, false);
      ix.scan(from, true, visit);
    }
    const docs = sortedByIndex ? out : sortDocs(out, sort);
    return {
      docs: sliceResult(docs, skip, limit),
      plan: {
        index: ix.name,
        keyPattern: ix.spec.key,
        direction: reverse ? 'backward' : 'forward',
        sortedByIndex,
        keysExamined,
        docsExamined,
      },
    };
  }

  private chooseIndex(
    conds: Map<string, FieldCond>,
    filter: Document,
    sort: SortSpec,
    hint: unknown,
  ): { ix: Index; eqCount: number; range: boolean; sortedByIndex: boolean; reverse: boolean } | undefined {
    let best:
      | {
          ix: Index;
          eqCount: number;
          range: boolean;
          sortedByIndex: boolean;
          reverse: boolean;
          score: number;
        }
      | undefined;
    for (const ix of this.indexes.values()) {
      if (typeof hint === 'string' && hint !== ix.name) continue;
      if (isPlainObject(hint) && keyString(hint) !== keyString(ix.spec.key)) continue;
      if (ix.sparse) continue;
      if (ix.spec.partialFilterExpression && !impliesPartial(conds, filter, ix.spec.partialFilterExpression))
        continue;
      let eqCount = 0;
      while (eqCount < ix.fields.length && conds.get(ix.fields[eqCount] as string)?.hasEq) eqCount++;
      const next = ix.fields[eqCount];
      const nc = next !== undefined ? conds.get(next) : undefined;
      const range = !!nc && !nc.hasEq && (nc.low !== undefined || nc.high !== undefined);
      // Sort fields that the equality prefix fixes are free; the rest must follow the index.
      const rest = sort.filter(([p]) => !ix.fields.slice(0, eqCount).includes(p) || !conds.get(p)?.hasEq);
      let sortedByIndex = rest.length === 0;
      let reverse = false;
      if (rest.length > 0 && !ix.multikey) {
        sortedByIndex = rest.every(([p], i) => ix.fields[eqCount + i] === p);
        if (sortedByIndex) {
          const rel = rest.map(([, d], i) => d * (ix.dirs[eqCount + i] ?? 1));
          if (rel.every((r) => r === 1)) reverse = false;
          else if (rel.every((r) => r === -1)) reverse = true;
          else sortedByIndex = false;
        }
      }
      if (eqCount === 0 && !range && !(sortedByIndex && rest.length > 0) && hint === undefined) continue;
      const score =
        eqCount * 4 +
        (range ? 2 : 0) +
        (sortedByIndex && rest.length > 0 ? 1 : 0) +
        (ix.unique && eqCount === ix.fields.length ? 8 : 0);
      if (!best || score > best.score) best = { ix, eqCount, range, sortedByIndex, reverse, score };
    }
    return best;
  }
}

function sliceResult(docs: Document[], skip: number, limit: number): Document[] {
  if (skip === 0 && (limit <= 0 || docs.length <= limit)) return docs;
  return docs.slice(skip, limit > 0 ? skip + limit : undefined);
}
