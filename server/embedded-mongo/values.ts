import { Decimal128, Long } from 'bson';
import type { Document } from 'bson';

/**
 * BSON values as the engine holds them: the output of `bson.deserialize` with `promoteLongs: false`
 * (int32 and double become numbers; int64, Decimal128, ObjectId, Binary, Timestamp… stay objects).
 * This module gives them MongoDB's comparison order and equality.
 */

export type Value = unknown;

interface ObjectIdWords {
  i0: number;
  i1: number;
  i2: number;
  i3: number;
}

function bsonTypeOf(v: unknown): string | undefined {
  if (v !== null && typeof v === 'object' && '_bsontype' in v) {
    const t = (v as { _bsontype?: unknown })._bsontype;
    return typeof t === 'string' ? t : undefined;
  }
  return undefined;
}

export function isPlainObject(v: unknown): v is Document {
  if (v === null || typeof v !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Rank of a value's type in BSON's cross-type order (MinKey < null < numbers < … < MaxKey). */
export function typeRank(v: unknown): number {
  if (v === undefined || v === null) return 2;
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return 3;
    case 'string':
      return 4;
    case 'boolean':
      return 9;
    case 'symbol':
    case 'function':
      return 4;
  }
  if (Array.isArray(v)) return 6;
  if (v instanceof Date) return 10;
  if (v instanceof RegExp) return 12;
  if (ArrayBuffer.isView(v)) return 7;
  switch (bsonTypeOf(v)) {
    case 'MinKey':
      return 1;
    case 'MaxKey':
      return 13;
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return 3;
    case 'BSONSymbol':
      return 4;
    case 'Binary':
      return 7;
    case 'ObjectId':
      return 8;
    case 'Timestamp':
      return 11;
    case 'BSONRegExp':
      return 12;
    case 'Code':
    case 'DBRef':
      return 5;
    case undefined:
      return 5;
  }
  return 5;
}

export function isNumeric(v: unknown): boolean {
  if (typeof v === 'number' || typeof v === 'bigint') return true;
  const t = bsonTypeOf(v);
  return t === 'Long' || t === 'Int32' || t === 'Double' || t === 'Decimal128';
}

/** A number as a double (approximate for large Long and Decimal128). */
export function toDouble(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  switch (bsonTypeOf(v)) {
    case 'Long':
      return (v as Long).toNumber();
    case 'Int32':
    case 'Double':
      return (v as { value: number }).value;
    case 'Decimal128':
      return Number.parseFloat((v as Decimal128).toString());
  }
  return Number.NaN;
}

function toBigIntExact(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : undefined;
  if (bsonTypeOf(v) === 'Long') return BigInt((v as Long).toString());
  return undefined;
}

function compareNumbers(a: unknown, b: unknown): number {
  const ia = toBigIntExact(a);
  const ib = toBigIntExact(b);
  if (ia !== undefined && ib !== undefined) return ia < ib ? -1 : ia > ib ? 1 : 0;
  const da = toDouble(a);
  const db = toDouble(b);
  // NaN sorts before every other number.
  if (Number.isNaN(da)) return Number.isNaN(db) ? 0 : -1;
  if (Number.isNaN(db)) return 1;
  return da < db ? -1 : da > db ? 1 : 0;
}

function bytesOf(v: unknown): Uint8Array {
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const b = v as { buffer: Uint8Array; position?: number; sub_type?: number };
  return b.buffer.subarray(0, b.position ?? b.buffer.length);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

function cmpPrim<T extends string | number | boolean>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Total order over BSON values, as MongoDB compares them (arrays compared element-wise). */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  const ta = typeof a;
  if (ta === typeof b) {
    if (ta === 'string') return (a as string) < (b as string) ? -1 : 1;
    if (ta === 'number' && !Number.isNaN(a) && !Number.isNaN(b))
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  }
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 1:
    case 2:
    case 13:
      return 0;
    case 3:
      return compareNumbers(a, b);
    case 4:
      return cmpPrim(String(a), String(b));
    case 9:
      return cmpPrim(Boolean(a), Boolean(b));
    case 10:
      return cmpPrim((a as Date).getTime(), (b as Date).getTime());
    case 6: {
      const xa = a as unknown[];
      const xb = b as unknown[];
      const n = Math.min(xa.length, xb.length);
      for (let i = 0; i < n; i++) {
        const c = compareValues(xa[i], xb[i]);
        if (c !== 0) return c;
      }
      return cmpPrim(xa.length, xb.length);
    }
    case 7: {
      const ba = bytesOf(a);
      const bb = bytesOf(b);
      if (ba.length !== bb.length) return ba.length < bb.length ? -1 : 1;
      const sa = (a as { sub_type?: number }).sub_type ?? 0;
      const sb = (b as { sub_type?: number }).sub_type ?? 0;
      if (sa !== sb) return sa < sb ? -1 : 1;
      return compareBytes(ba, bb);
    }
    case 8: {
      const oa = a as ObjectIdWords;
      const ob = b as ObjectIdWords;
      if (typeof oa.i0 === 'number' && typeof ob.i0 === 'number') {
        // bson 7 keeps an ObjectId as four 24-bit words: comparing them is comparing the bytes.
        return (
          cmpPrim(oa.i0, ob.i0) || cmpPrim(oa.i1, ob.i1) || cmpPrim(oa.i2, ob.i2) || cmpPrim(oa.i3, ob.i3)
        );
      }
      return compareBytes((a as { id: Uint8Array }).id, (b as { id: Uint8Array }).id);
    }
    case 11: {
      const ta = a as Long;
      const tb = b as Long;
      return Long.fromBits(ta.low, ta.high, true).compare(Long.fromBits(tb.low, tb.high, true));
    }
    case 12: {
      const sa =
        a instanceof RegExp
          ? [a.source, a.flags]
          : [(a as { pattern: string }).pattern, (a as { options: string }).options];
      const sb =
        b instanceof RegExp
          ? [b.source, b.flags]
          : [(b as { pattern: string }).pattern, (b as { options: string }).options];
      return cmpPrim(sa[0] ?? '', sb[0] ?? '') || cmpPrim(sa[1] ?? '', sb[1] ?? '');
    }
    case 5: {
      if (!isPlainObject(a) || !isPlainObject(b)) return cmpPrim(String(a), String(b));
      const ka = Object.keys(a);
      const kb = Object.keys(b);
      const n = Math.min(ka.length, kb.length);
      for (let i = 0; i < n; i++) {
        const fa = ka[i] as string;
        const fb = kb[i] as string;
        const c = compareValues(a[fa], b[fb]);
        if (typeRank(a[fa]) !== typeRank(b[fb])) return c;
        const k = cmpPrim(fa, fb);
        if (k !== 0) return k;
        if (c !== 0) return c;
      }
      return cmpPrim(ka.length, kb.length);
    }
  }
  return 0;
}

export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((a === undefined || a === null) && (b === undefined || b === null)) return true;
  if (typeRank(a) !== typeRank(b)) return false;
  return compareValues(a, b) === 0;
}

/**
 * A string that is equal for values MongoDB treats as equal (1, 1.0 and Long(1) alike): the key of
 * the `_id` map and of group-by tables.
 */
export function keyString(v: unknown): string {
  if (typeof v === 'string') return `4:${JSON.stringify(v)}`;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return `3:${v}`;
  const r = typeRank(v);
  switch (r) {
    case 1:
    case 2:
    case 13:
      return `${r}`;
    case 3: {
      const i = toBigIntExact(v);
      if (i !== undefined) return `3:${i.toString()}`;
      return `3:${toDouble(v)}`;
    }
    case 4:
      return `4:${JSON.stringify(String(v))}`;
    case 9:
      return v ? '9:t' : '9:f';
    case 10:
      return `10:${(v as Date).getTime()}`;
    case 8: {
      const o = v as ObjectIdWords;
      if (typeof o.i0 === 'number') return `8:${o.i0}.${o.i1}.${o.i2}.${o.i3}`;
      return `8:${(v as { toHexString(): string }).toHexString()}`;
    }
    case 6:
      return `6:[${(v as unknown[]).map(keyString).join(',')}]`;
    case 7:
      return `7:${(v as { sub_type?: number }).sub_type ?? 0}:${Buffer.from(bytesOf(v)).toString('base64')}`;
    case 5:
      if (isPlainObject(v)) {
        return `5:{${Object.keys(v)
          .map((k) => `${JSON.stringify(k)}:${keyString(v[k])}`)
          .join(',')}}`;
      }
      return `5:${String(v)}`;
    default:
      return `${r}:${String(v)}`;
  }
}

/** Copies plain objects and arrays; BSON values and dates are shared (the engine never mutates them). */
export function cloneDoc<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x: unknown) => cloneDoc(x)) as T;
  if (isPlainObject(v)) {
    const out: Document = {};
    for (const k of Object.keys(v)) out[k] = cloneDoc(v[k]);
    return out as T;
  }
  return v;
}

/**
 * Every value a dotted path reaches, expanding arrays along the way as MongoDB does for queries
 * and index keys. A final array is returned as one value (the caller decides whether to expand).
 */
export function pathValues(doc: unknown, path: string[], start = 0): unknown[] {
  if (start === path.length) return [doc];
  const key = path[start] as string;
  if (Array.isArray(doc)) {
    const out: unknown[] = [];
    if (/^\d+$/.test(key)) {
      const idx = Number(key);
      if (idx < doc.length) out.push(...pathValues(doc[idx], path, start + 1));
    }
    for (const el of doc) {
      if (isPlainObject(el) || Array.isArray(el)) {
        if (Array.isArray(el)) continue;
        out.push(...pathValues(el, path, start));
      }
    }
    return out;
  }
  if (isPlainObject(doc)) {
    if (!Object.prototype.hasOwnProperty.call(doc, key)) return [undefined];
    return pathValues(doc[key], path, start + 1);
  }
  return start === 0 ? [] : [undefined];
}

/** The single value at a dotted path without array expansion (undefined when absent). */
export function getPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const key of path.split('.')) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(key)) return undefined;
      cur = cur[Number(key)];
    } else if (isPlainObject(cur)) {
      cur = Object.prototype.hasOwnProperty.call(cur, key) ? cur[key] : undefined;
    } else {
      return undefined;
    }
  }
  return cur;
}

// ---- arithmetic (for $inc / $mul) ----

function decimalParts(d: Decimal128): { m: bigint; e: number } | undefined {
  const s = d.toString();
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:E([+-]?\d+))?$/i.exec(s);
  if (!match) return undefined;
  const frac = match[3] ?? '';
  const m = BigInt(`${match[1]}${match[2]}${frac}`);
  const e = Number(match[4] ?? '0') - frac.length;
  return { m, e };
}

function numberToDecimalParts(v: unknown): { m: bigint; e: number } | undefined {
  if (bsonTypeOf(v) === 'Decimal128') return decimalParts(v as Decimal128);
  const i = toBigIntExact(v);
  if (i !== undefined) return { m: i, e: 0 };
  const d = toDouble(v);
  if (!Number.isFinite(d)) return undefined;
  return decimalParts(Decimal128.fromString(String(d)));
}

function partsToDecimal(p: { m: bigint; e: number }): Decimal128 {
  const neg = p.m < 0n;
  let digits = (neg ? -p.m : p.m).toString();
  let out: string;
  if (p.e >= 0) out = digits + '0'.repeat(p.e);
  else {
    const k = -p.e;
    if (digits.length <= k) digits = '0'.repeat(k - digits.length + 1) + digits;
    out = `${digits.slice(0, digits.length - k)}.${digits.slice(digits.length - k)}`;
  }
  return Decimal128.fromString(`${neg ? '-' : ''}${out}`);
}

function kindOf(v: unknown): 'int' | 'long' | 'double' | 'decimal' {
  const t = bsonTypeOf(v);
  if (t === 'Decimal128') return 'decimal';
  if (t === 'Long' || typeof v === 'bigint') return 'long';
  if (t === 'Double') return 'double';
  const d = toDouble(v);
  return Number.isInteger(d) && Math.abs(d) <= 0x7fffffff ? 'int' : 'double';
}

/** a + b or a * b with MongoDB's type promotion (int → long on overflow, decimal wins). */
export function arith(a: unknown, b: unknown, op: 'add' | 'mul'): unknown {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === 'decimal' || kb === 'decimal') {
    const pa = numberToDecimalParts(a);
    const pb = numberToDecimalParts(b);
    if (!pa || !pb) return Decimal128.fromString('NaN');
    if (op === 'mul') return partsToDecimal({ m: pa.m * pb.m, e: pa.e + pb.e });
    const e = Math.min(pa.e, pb.e);
    const ma = pa.m * 10n ** BigInt(pa.e - e);
    const mb = pb.m * 10n ** BigInt(pb.e - e);
    return partsToDecimal({ m: ma + mb, e });
  }
  if (ka === 'double' || kb === 'double') {
    const r = op === 'add' ? toDouble(a) + toDouble(b) : toDouble(a) * toDouble(b);
    return r;
  }
  const ia = toBigIntExact(a) ?? 0n;
  const ib = toBigIntExact(b) ?? 0n;
  const r = op === 'add' ? ia + ib : ia * ib;
  if (ka === 'long' || kb === 'long' || r > 0x7fffffffn || r < -0x80000000n) {
    return Long.fromBigInt(BigInt.asIntN(64, r));
  }
  return Number(r);
}
