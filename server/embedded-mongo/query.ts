import type { Document } from 'bson';
import { Context } from 'mingo';
import { Aggregator as AggregatorBase } from 'mingo/aggregator';
import { Lazy } from 'mingo/lazy';
import type { Iterator as LazyIterator } from 'mingo/lazy';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import * as pipelineOperators from 'mingo/operators/pipeline';
import * as projectionOperators from 'mingo/operators/projection';
import * as queryOperators from 'mingo/operators/query';
import * as windowOperators from 'mingo/operators/window';
import { Query as QueryBase } from 'mingo/query';
import type { Options } from 'mingo/types';
import { fail } from './errors.js';
import { compareValues, isPlainObject, keyString, pathValues, typeRank, valuesEqual } from './values.js';

/**
 * Query matching, sorting and projection: mingo's operators, with the comparison operators
 * replaced by ones that follow BSON's order and equality (Long, Decimal128, ObjectId, Binary…).
 */

type Pred = (doc: unknown) => boolean;

/** The values a query path reaches in a document: array elements as well as the arrays. */
function candidates(doc: unknown, path: string): unknown[] {
  const vals = pathValues(doc, path.split('.'));
  if (vals.length === 0) return [undefined];
  const out: unknown[] = [];
  for (const v of vals) {
    out.push(v);
    if (Array.isArray(v)) out.push(...v);
  }
  return out;
}

function isRegExpValue(v: unknown): v is RegExp {
  return v instanceof RegExp;
}

function eqOne(c: unknown, x: unknown): boolean {
  if (x === null || x === undefined) return c === null || c === undefined;
  if (isRegExpValue(x)) {
    if (typeof c === 'string') {
      x.lastIndex = 0;
      return x.test(c);
    }
    return c instanceof RegExp && c.source === x.source && c.flags === x.flags;
  }
  return valuesEqual(c, x);
}

function makeEq(selector: string, value: unknown): Pred {
  return (doc) => candidates(doc, selector).some((c) => eqOne(c, value));
}

function makeIn(selector: string, value: unknown): Pred {
  if (!Array.isArray(value)) fail(2, '$in needs an array');
  const list = value as unknown[];
  const plain = new Set<string>();
  const special: unknown[] = [];
  for (const v of list) {
    if (v === null || v === undefined || isRegExpValue(v)) special.push(v);
    else plain.add(keyString(v));
  }
  return (doc) =>
    candidates(doc, selector).some(
      (c) => (c !== undefined && plain.has(keyString(c))) || special.some((s) => eqOne(c, s)),
    );
}

function makeRange(selector: string, value: unknown, test: (c: number) => boolean, inclusive: boolean): Pred {
  const rank = typeRank(value);
  return (doc) =>
    candidates(doc, selector).some((c) => {
      if (value === null && inclusive) return c === null || c === undefined;
      if (c === undefined) return false;
      if (typeRank(c) !== rank) return false;
      return test(compareValues(c, value));
    });
}

type QueryOp = (selector: string, value: unknown, options: Options) => Pred;

const bsonQueryOps: Record<string, QueryOp> = {
  $eq: (s, v) => makeEq(s, v),
  $ne: (s, v) => {
    const p = makeEq(s, v);
    return (d) => !p(d);
  },
  $in: (s, v) => makeIn(s, v),
  $nin: (s, v) => {
    const p = makeIn(s, v);
    return (d) => !p(d);
  },
  $gt: (s, v) => makeRange(s, v, (c) => c > 0, false),
  $gte: (s, v) => makeRange(s, v, (c) => c >= 0, true),
  $lt: (s, v) => makeRange(s, v, (c) => c < 0, false),
  $lte: (s, v) => makeRange(s, v, (c) => c <= 0, true),
};

// ---- sorting ----

export type SortSpec = [string, 1 | -1][];

export function parseSort(sort: unknown): SortSpec {
  if (!isPlainObject(sort)) return [];
  return Object.keys(sort).map((k) => {
    const d = sort[k];
    return [k, typeof d === 'number' && d < 0 ? -1 : 1] as [string, 1 | -1];
  });
}

/** The value a document sorts by on a path: the smallest (ascending) or largest array element. */
export function sortKey(doc: unknown, path: string, dir: 1 | -1): unknown {
  const vals = candidates(doc, path).filter((v) => !Array.isArray(v) || v.length === 0);
  let best: unknown = undefined;
  let first = true;
  for (const v of vals) {
    const x = Array.isArray(v) ? undefined : v;
    if (first || compareValues(x, best) * dir < 0) best = x;
    first = false;
  }
  return best;
}

export function makeComparator(spec: SortSpec): (a: Document, b: Document) => number {
  return (a, b) => {
    for (const [path, dir] of spec) {
      const c = compareValues(sortKey(a, path, dir), sortKey(b, path, dir));
      if (c !== 0) return c * dir;
    }
    return 0;
  };
}

export function sortDocs(docs: Document[], spec: SortSpec): Document[] {
  if (spec.length === 0) return docs;
  // Decorate once, so each document's keys are computed once per sort.
  const decorated = docs.map((d) => ({ d, k: spec.map(([p, dir]) => sortKey(d, p, dir)) }));
  decorated.sort((x, y) => {
    for (let i = 0; i < spec.length; i++) {
      const c = compareValues(x.k[i], y.k[i]);
      if (c !== 0) return c * (spec[i]?.[1] ?? 1);
    }
    return 0;
  });
  return decorated.map((x) => x.d);
}

type PipelineOp = (coll: LazyIterator, expr: unknown, options: Options) => LazyIterator;

const bsonPipelineOps: Record<string, PipelineOp> = {
  $sort: (coll, expr) => {
    const spec = parseSort(expr);
    if (spec.length === 0) fail(15976, '$sort stage must have at least one sort key');
    return coll.transform((items: unknown[]) => Lazy(sortDocs(items as Document[], spec)));
  },
};

const CONTEXT = Context.init({
  accumulator: accumulatorOperators,
  expression: expressionOperators,
  pipeline: { ...pipelineOperators, ...bsonPipelineOps } as unknown as Record<string, never>,
  projection: projectionOperators,
  query: { ...queryOperators, ...bsonQueryOps } as unknown as Record<string, never>,
  window: windowOperators,
});

export function mingoOptions(extra: Partial<Options> = {}): Partial<Options> {
  return { context: CONTEXT, useStrictMode: true, scriptEnabled: false, ...extra };
}

const EMPTY_FILTER: Pred = () => true;

export function compileFilter(filter: unknown): Pred {
  if (filter === undefined || filter === null) return EMPTY_FILTER;
  if (!isPlainObject(filter)) fail(2, 'filter must be an object');
  if (Object.keys(filter).length === 0) return EMPTY_FILTER;
  const simple = compileSimpleFilter(filter);
  if (simple) return simple;
  try {
    const q = new QueryBase(filter, mingoOptions());
    return (doc) => q.test(doc as Document);
  } catch (err) {
    fail(2, err instanceof Error ? err.message : String(err));
  }
}

/**
 * Most filters a server sends are fields compared with values (`{ _id, seq: { $lt: n } }`); those
 * are built straight from the operators above, without mingo's per-query set-up, which would
 * otherwise cost more than the write they guard. Anything else (null for undefined here) goes to mingo.
 */
function compileSimpleFilter(filter: Document): Pred | null {
  const preds: Pred[] = [];
  for (const [field, value] of Object.entries(filter)) {
    if (field.startsWith('$')) return null;
    if (!isPlainObject(value)) {
      preds.push(makeEq(field, value));
      continue;
    }
    const ops = Object.entries(value);
    if (ops.length === 0 || !ops.every(([op]) => Object.hasOwn(bsonQueryOps, op))) return null;
    for (const [op, operand] of ops) preds.push((bsonQueryOps[op] as QueryOp)(field, operand, {} as Options));
  }
  return preds.length === 1 ? (preds[0] as Pred) : (doc) => preds.every((p) => p(doc));
}

export function aggregate(
  docs: Iterable<Document>,
  pipeline: Document[],
  resolver?: (name: string) => Document[],
): Document[] {
  try {
    const agg = new AggregatorBase(pipeline, mingoOptions(resolver ? { collectionResolver: resolver } : {}));
    return agg.run(Array.isArray(docs) ? docs : [...docs]) as Document[];
  } catch (err) {
    if (err instanceof Error && 'code' in err) throw err;
    fail(2, err instanceof Error ? err.message : String(err));
  }
}

/** `_id` first, as MongoDB returns projected and grouped documents. */
export function idFirst(docs: Document[]): Document[] {
  return docs.map((d) => {
    if (!('_id' in d) || Object.keys(d)[0] === '_id') return d;
    const { _id, ...rest } = d;
    return { _id, ...rest };
  });
}

export function project(docs: Document[], projection: unknown): Document[] {
  if (!isPlainObject(projection) || Object.keys(projection).length === 0) return docs;
  return idFirst(aggregate(docs, [{ $project: projection }]));
}
