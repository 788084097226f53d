import type { Document, Long } from 'bson';
import { fail, toCommandError } from './errors.js';
import type { JournalOp } from './persistence/types.js';
import { isPlainObject } from './values.js';

/** Reading a command's arguments (its write concern among them), and the write error shape. */

export function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') fail(2, `${what} must be a non-empty string`);
  return v;
}

export function num(v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null && '_bsontype' in v) {
    const t = (v as { _bsontype: string })._bsontype;
    if (t === 'Long') return (v as Long).toNumber();
    if (t === 'Int32' || t === 'Double') return (v as unknown as { value: number }).value;
  }
  return dflt;
}

export function doc(v: unknown): Document {
  if (v === undefined || v === null) return {};
  if (!isPlainObject(v)) fail(14, 'expected an object');
  return v;
}

/** The batch size a command asks of its cursor (`cursor: { batchSize }`), or `dflt`. */
export function cursorBatchSize(cmd: Document, dflt: number): number {
  return isPlainObject(cmd.cursor) ? num(cmd.cursor.batchSize, dflt) : dflt;
}

/**
 * Whether a write waits for the fsync of the log, as its write concern asks on MongoDB: `j: true`,
 * or `w: "majority"` (on a standalone, a majority is this node's journal), or no write concern at
 * all (MongoDB's default is majority). `w: <number>` without `j` is acknowledged once the write is
 * in the log file, which a crash of the store's process cannot lose; it is fsynced within
 * LAZY_SYNC_MS, so only a power failure can lose it.
 */
export function journaled(cmd: Document): boolean {
  const wc: unknown = cmd.writeConcern;
  if (wc === null || typeof wc !== 'object') return true;
  const { j, w } = wc as { j?: unknown; w?: unknown };
  if (typeof j === 'boolean') return j;
  return typeof w !== 'number';
}

/** Makes a write command's journal ops durable before it is answered (Engine.persist). */
export type Persist = (ops: JournalOp[], journaled: boolean) => Promise<void>;

export function writeErrorOf(index: number, err: unknown): Document {
  const e = toCommandError(err);
  return { index, code: e.code, codeName: e.codeName, errmsg: e.message, ...e.extra };
}
