import { Timestamp } from 'bson';
import type { Document } from 'bson';
import { fail } from './errors.js';
import { aggregate, compileFilter, parseSort, sortDocs } from './query.js';
import {
  arith,
  cloneDoc,
  compareValues,
  getPath,
  isNumeric,
  isPlainObject,
  keyString,
  valuesEqual,
} from './values.js';

/**
 * MongoDB update semantics: operator documents, replacements and pipelines. Works on a copy and
 * returns the post-image; errors (type mismatches, paths through scalars, `_id` changes) are thrown
 * before anything is stored.
 */

export interface UpdateContext {
  /** The document is being inserted by an upsert: `$setOnInsert` applies. */
  inserting: boolean;
  arrayFilters?: Document[];
  /** The query, to resolve the positional `$`. */
  query?: Document;
}

export function isOperatorUpdate(u: unknown): boolean {
  if (!isPlainObject(u)) return false;
  const keys = Object.keys(u);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'double';
  if (v instanceof Date) return 'date';
  if (isPlainObject(v)) return 'object';
  const t = (v as { _bsontype?: string })._bsontype;
  return t ? t.toLowerCase() : 'object';
}

function idText(doc: Document): string {
  const id: unknown = doc._id;
  if (id === undefined) return '{}';
  if (id !== null && typeof id === 'object' && 'toHexString' in id)
    return `{ _id: ObjectId('${String(id)}') }`;
  return `{ _id: ${JSON.stringify(id)} }`;
}

type Container = Document | unknown[];

/** Walks to the parent of the last path part, creating objects on the way when `create`. */
function parentOf(doc: Document, parts: string[], create: boolean): Container | undefined {
  let cur: Container = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i] as string;
    let next: unknown;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(key)) {
        if (!create) return undefined;
        fail(28, `Cannot create field '${key}' in element {${parts.slice(0, i).join('.')}: [...]}`);
      }
      next = cur[Number(key)];
    } else {
      next = Object.prototype.hasOwnProperty.call(cur, key) ? cur[key] : undefined;
    }
    if (next === undefined || (next === null && create && !Array.isArray(cur) && false)) {
      if (!create) return undefined;
      const fresh: Document = {};
      if (Array.isArray(cur)) {
        const idx = Number(key);
        while (cur.length < idx) cur.push(null);
        cur[idx] = fresh;
      } else cur[key] = fresh;
      cur = fresh;
      continue;
    }
    if (Array.isArray(next) || isPlainObject(next)) {
      cur = next;
      continue;
    }
    if (!create) return undefined;
    fail(
      28,
      `Cannot create field '${parts[i + 1] ?? ''}' in element {${key}: ${next === null ? 'null' : (JSON.stringify(next) ?? describe(next))}}`,
    );
  }
  return cur;
}

function getAt(c: Container | undefined, key: string): unknown {
  if (c === undefined) return undefined;
  if (Array.isArray(c)) return /^\d+$/.test(key) ? c[Number(key)] : undefined;
  return Object.prototype.hasOwnProperty.call(c, key) ? c[key] : undefined;
}

function setAt(c: Container, key: string, value: unknown, path: string): void {
  if (Array.isArray(c)) {
    if (!/^\d+$/.test(key)) fail(28, `Cannot create field '${key}' in element {${path}: [...]}`);
    const idx = Number(key);
    while (c.length < idx) c.push(null);
    c[idx] = value;
  } else c[key] = value;
}

function unsetAt(c: Container | undefined, key: string): void {
  if (c === undefined) return;
  if (Array.isArray(c)) {
    if (/^\d+$/.test(key) && Number(key) < c.length) c[Number(key)] = null;
  } else delete c[key];
}

/** The element index the positional `$` stands for: the first element of `arrayPath` the query matched. */
function positionalIndex(doc: Document, arrayPath: string, query: Document | undefined): number {
  const arr = getPath(doc, arrayPath);
  if (!Array.isArray(arr) || !query)
    fail(2, 'The positional operator did not find the match needed from the query.');
  const conds: Array<(el: unknown) => boolean> = [];
  const visit = (q: Document): void => {
    for (const k of Object.keys(q)) {
      if (k === '$and' && Array.isArray(q[k]))
        for (const sub of q[k] as unknown[]) if (isPlainObject(sub)) visit(sub);
      if (k === arrayPath) {
        const f = compileFilter({ v: q[k] });
        conds.push((el) => f({ v: el }));
      } else if (k.startsWith(arrayPath + '.')) {
        const rest = k.slice(arrayPath.length + 1);
        const f = compileFilter({ [rest]: q[k] });
        conds.push((el) => f(el));
      }
    }
  };
  visit(query);
  if (conds.length === 0) fail(2, 'The positional operator did not find the match needed from the query.');
  const idx = arr.findIndex((el) => conds.every((c) => c(el)));
  if (idx < 0) fail(2, 'The positional operator did not find the match needed from the query.');
  return idx;
}

/** Concrete paths for a path with `$`, `$[]` and `$[id]` parts. */
function expandPath(doc: Document, path: string, ctx: UpdateContext): string[][] {
  const parts = path.split('.');
  if (!parts.some((p) => p.startsWith('$'))) return [parts];
  let results: string[][] = [[]];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (!p.startsWith('$')) {
      results = results.map((r) => [...r, p]);
      continue;
    }
    const next: string[][] = [];
    for (const prefix of results) {
      const arr = getPath(doc, prefix.join('.'));
      if (p === '$') {
        next.push([...prefix, String(positionalIndex(doc, prefix.join('.'), ctx.query))]);
        continue;
      }
      if (!Array.isArray(arr)) {
        if (arr === undefined && ctx.inserting) continue;
        fail(2, `The path '${prefix.join('.')}' must exist in the document in order to apply array updates.`);
      }
      if (p === '$[]') {
        arr.forEach((_, idx) => next.push([...prefix, String(idx)]));
        continue;
      }
      const m = /^\$\[(\w+)\]$/.exec(p);
      if (!m) fail(2, `Unrecognized path part ${p}`);
      const ident = m[1] as string;
      const filterDoc = (ctx.arrayFilters ?? []).find((f) =>
        Object.keys(f).some((k) => k === ident || k.startsWith(ident + '.')),
      );
      if (!filterDoc) fail(2, `No array filter found for identifier '${ident}' in path '${path}'`);
      const f = compileFilter(filterDoc);
      arr.forEach((el, idx) => {
        if (f({ [ident]: el })) next.push([...prefix, String(idx)]);
      });
    }
    results = next;
  }
  return results;
}

function checkConflicts(paths: string[]): void {
  const norm = paths.map((p) => p.split('.').filter((x) => !x.startsWith('$')));
  for (let i = 0; i < norm.length; i++) {
    for (let j = i + 1; j < norm.length; j++) {
      const a = norm[i] as string[];
      const b = norm[j] as string[];
      const n = Math.min(a.length, b.length);
      let prefix = true;
      for (let k = 0; k < n; k++) if (a[k] !== b[k]) prefix = false;
      if (prefix) {
        fail(40, `Updating the path '${paths[j] ?? ''}' would create a conflict at '${paths[i] ?? ''}'`);
      }
    }
  }
}

function pushValues(arr: unknown[], spec: unknown, addToSet: boolean): unknown[] {
  let each: unknown[];
  let position: number | undefined;
  let slice: number | undefined;
  let sort: unknown;
  if (isPlainObject(spec) && '$each' in spec) {
    if (!Array.isArray(spec.$each)) fail(2, 'The argument to $each must be an array');
    each = spec.$each.map((v: unknown) => cloneDoc(v));
    if (spec.$position !== undefined) position = Number(spec.$position);
    if (spec.$slice !== undefined) slice = Number(spec.$slice);
    sort = spec.$sort;
  } else each = [cloneDoc(spec)];
  let out = arr.slice();
  if (addToSet) {
    for (const v of each)
      if (!out.some((x) => valuesEqual(x, v) && keyString(x) === keyString(v))) out.push(v);
    return out;
  }
  if (position === undefined) out.push(...each);
  else {
    const at = position < 0 ? Math.max(0, out.length + position) : Math.min(position, out.length);
    out.splice(at, 0, ...each);
  }
  if (sort !== undefined) {
    if (typeof sort === 'number') {
      out.sort((a, b) => compareValues(a, b) * (sort < 0 ? -1 : 1));
    } else {
      out = sortDocs(out as Document[], parseSort(sort));
    }
  }
  if (slice !== undefined) {
    out = slice >= 0 ? out.slice(0, slice) : out.slice(Math.max(0, out.length + slice));
  }
  return out;
}

function pullMatcher(cond: unknown): (el: unknown) => boolean {
  if (isPlainObject(cond)) {
    const keys = Object.keys(cond);
    if (keys.length > 0 && keys.every((k) => k.startsWith('$'))) {
      const f = compileFilter({ v: cond });
      return (el) => f({ v: el });
    }
    const f = compileFilter(cond);
    return (el) => isPlainObject(el) && f(el);
  }
  if (cond instanceof RegExp) return (el) => typeof el === 'string' && cond.test(el);
  return (el) => valuesEqual(el, cond) && keyString(el) === keyString(cond);
}

const KNOWN = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$rename',
  '$setOnInsert',
  '$currentDate',
  '$push',
  '$addToSet',
  '$pop',
  '$pull',
  '$pullAll',
  '$bit',
]);

function applyOperators(doc: Document, update: Document, ctx: UpdateContext): void {
  const allPaths: string[] = [];
  for (const op of Object.keys(update)) {
    if (!KNOWN.has(op))
      fail(
        9,
        `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    const spec = update[op];
    if (!isPlainObject(spec))
      fail(9, `Modifiers operate on fields but we found type ${describe(spec)} instead.`);
    if (op === '$setOnInsert' && !ctx.inserting) continue;
    for (const path of Object.keys(spec)) {
      if (path === '' || path.split('.').some((p) => p === ''))
        fail(56, `An empty update path is not valid.`);
      allPaths.push(path);
      if (op === '$rename') allPaths.push(String(spec[path]));
    }
  }
  checkConflicts(allPaths);

  for (const op of Object.keys(update)) {
    if (op === '$setOnInsert' && !ctx.inserting) continue;
    const spec = update[op] as Document;
    for (const path of Object.keys(spec)) {
      const arg: unknown = spec[path];
      if (op === '$rename') {
        const target = String(arg);
        const from = path.split('.');
        const parent = parentOf(doc, from, false);
        const v = getAt(parent, from[from.length - 1] as string);
        if (v === undefined) continue;
        unsetAt(parent, from[from.length - 1] as string);
        const to = target.split('.');
        setAt(parentOf(doc, to, true) as Container, to[to.length - 1] as string, v, target);
        continue;
      }
      for (const parts of expandPath(doc, path, ctx)) {
        const last = parts[parts.length - 1] as string;
        if (op === '$unset') {
          unsetAt(parentOf(doc, parts, false), last);
          continue;
        }
        const parent = parentOf(doc, parts, true) as Container;
        const cur = getAt(parent, last);
        const where = parts.join('.');
        switch (op) {
          case '$set':
          case '$setOnInsert':
            setAt(parent, last, cloneDoc(arg), where);
            break;
          case '$inc':
          case '$mul': {
            const name = op;
            if (!isNumeric(arg))
              fail(
                14,
                `Cannot ${name === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${where}: ${JSON.stringify(arg)}}`,
              );
            if (cur === undefined) {
              setAt(parent, last, name === '$inc' ? arg : arith(arg, 0, 'mul'), where);
            } else {
              if (!isNumeric(cur)) {
                fail(
                  14,
                  `Cannot apply ${name} to a value of non-numeric type. ${idText(doc)} has the field '${last}' of non-numeric type ${describe(cur)}`,
                );
              }
              setAt(parent, last, arith(cur, arg, name === '$inc' ? 'add' : 'mul'), where);
            }
            break;
          }
          case '$min':
          case '$max': {
            const c = cur === undefined ? 0 : compareValues(arg, cur);
            if (cur === undefined || (op === '$min' ? c < 0 : c > 0))
              setAt(parent, last, cloneDoc(arg), where);
            break;
          }
          case '$currentDate': {
            const ts = isPlainObject(arg) && arg.$type === 'timestamp';
            setAt(
              parent,
              last,
              ts ? new Timestamp({ t: Math.floor(Date.now() / 1000), i: 1 }) : new Date(),
              where,
            );
            break;
          }
          case '$push':
          case '$addToSet': {
            if (cur !== undefined && !Array.isArray(cur)) {
              fail(
                2,
                `The field '${where}' must be an array but is of type ${describe(cur)} in document ${idText(doc)}`,
              );
            }
            setAt(
              parent,
              last,
              pushValues((cur as unknown[] | undefined) ?? [], arg, op === '$addToSet'),
              where,
            );
            break;
          }
          case '$pop': {
            if (cur === undefined) break;
            if (!Array.isArray(cur))
              fail(14, `Path '${where}' contains an element of non-array type '${describe(cur)}'`);
            setAt(parent, last, Number(arg) < 0 ? cur.slice(1) : cur.slice(0, -1), where);
            break;
          }
          case '$pull':
          case '$pullAll': {
            if (cur === undefined) break;
            if (!Array.isArray(cur)) fail(2, `Cannot apply ${op} to a non-array value`);
            let keep: (el: unknown) => boolean;
            if (op === '$pull') {
              const m = pullMatcher(arg);
              keep = (el) => !m(el);
            } else {
              if (!Array.isArray(arg)) fail(2, '$pullAll requires an array argument');
              keep = (el) => !arg.some((x: unknown) => valuesEqual(x, el) && keyString(x) === keyString(el));
            }
            setAt(parent, last, cur.filter(keep), where);
            break;
          }
          case '$bit': {
            if (!isPlainObject(arg)) fail(2, '$bit needs an object');
            let v =
              typeof cur === 'number'
                ? cur
                : cur === undefined
                  ? 0
                  : fail(14, `Cannot apply $bit to a value of non-integral type.`);
            for (const k of Object.keys(arg)) {
              const n = Number(arg[k]);
              if (k === 'and') v &= n;
              else if (k === 'or') v |= n;
              else if (k === 'xor') v ^= n;
            }
            setAt(parent, last, v, where);
            break;
          }
        }
      }
    }
  }
}

/** Checks field names of a document to be stored (no `$` at the top, no dotted names). */
export function validateStoredDoc(doc: Document): void {
  for (const k of Object.keys(doc)) {
    if (k.startsWith('$')) fail(52, `Document can't have $ prefixed field names: ${k}`);
  }
}

/**
 * The post-image of `doc` after `update` (operators, replacement or pipeline). `doc` is not
 * modified. Throws code 66 when `_id` would change.
 */
export function applyUpdate(doc: Document, update: unknown, ctx: UpdateContext): Document {
  let out: Document;
  if (Array.isArray(update)) {
    const res = aggregate([cloneDoc(doc)], update as Document[]);
    out = res[0] ?? {};
  } else if (isOperatorUpdate(update)) {
    out = cloneDoc(doc);
    applyOperators(out, update as Document, ctx);
  } else {
    if (!isPlainObject(update)) fail(9, 'Update argument must be either an object or an array');
    for (const k of Object.keys(update)) if (k.startsWith('$')) fail(9, `Unknown modifier: ${k}`);
    validateStoredDoc(update);
    const repl = cloneDoc(update);
    if (
      repl._id !== undefined &&
      doc._id !== undefined &&
      !(valuesEqual(repl._id, doc._id) && keyString(repl._id) === keyString(doc._id))
    ) {
      fail(
        66,
        `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${JSON.stringify(repl._id)}`,
      );
    }
    const { _id: _ignored, ...rest } = repl;
    out = doc._id !== undefined ? { _id: doc._id, ...rest } : repl;
  }
  if (doc._id !== undefined) {
    if (out._id === undefined || keyString(out._id) !== keyString(doc._id)) {
      fail(66, "Performing an update on the path '_id' would modify the immutable field '_id'");
    }
    if (Object.keys(out)[0] !== '_id') {
      const { _id, ...rest } = out;
      out = { _id, ...rest };
    }
  }
  return out;
}

/** The document an upsert starts from: the query's equality conditions. */
export function seedFromQuery(query: Document): Document {
  const seed: Document = {};
  const addEq = (q: Document): void => {
    for (const k of Object.keys(q)) {
      const v: unknown = q[k];
      if (k === '$and' && Array.isArray(v)) {
        for (const sub of v) if (isPlainObject(sub)) addEq(sub);
        continue;
      }
      if (k.startsWith('$')) continue;
      let value: unknown;
      if (isPlainObject(v)) {
        const keys = Object.keys(v);
        if (keys.length > 0 && keys.every((x) => x.startsWith('$'))) {
          if ('$eq' in v) value = v.$eq;
          else continue;
        } else value = v;
      } else if (v instanceof RegExp) continue;
      else value = v;
      const parts = k.split('.');
      const parent = parentOf(seed, parts, true) as Container;
      setAt(parent, parts[parts.length - 1] as string, cloneDoc(value), k);
    }
  };
  addEq(query);
  return seed;
}

export function docsEqual(a: Document, b: Document): boolean {
  return keyString(a) === keyString(b);
}
