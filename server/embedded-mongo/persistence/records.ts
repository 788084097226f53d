/**
 * The payload of one log record, BSON `{ ops: [...] }`: written from the ops (an inserted
 * document from the bytes the client sent) and read back into them.
 */
import { Binary, deserialize, serialize } from 'bson';
import type { Document } from 'bson';
import type { JournalOp } from './types.js';

/** How the store reads its own files back: int64 values stay Long, as the client sent them. */
export const DESERIALIZE = { promoteLongs: false } as const;

/** BSON of `{ op: 'put', db, coll, doc }` around the document's own bytes. */
function putWithBson(db: string, coll: string, doc: Uint8Array): Buffer {
  const head = serialize({ op: 'put', db, coll });
  const out = Buffer.concat([head.subarray(0, head.length - 1), DOC_ELEMENT, doc, END_OF_DOCUMENT]);
  out.writeInt32LE(out.length, 0);
  return out;
}
const DOC_ELEMENT = Buffer.from('\x03doc\x00', 'latin1');
const END_OF_DOCUMENT = Buffer.of(0);

/** BSON of `{ ops: [op0, op1, …] }`, built from the ops serialized one by one (no 16 MiB limit on the whole). */
export function encodeOps(ops: readonly JournalOp[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let arrayBytes = 4 + 1; // int32 size + terminating 0
  for (let i = 0; i < ops.length; i++) {
    const key = Buffer.from(`\x03${i}\x00`, 'latin1');
    const op = ops[i] as JournalOp;
    const body =
      op.op === 'put' && op.bson ? putWithBson(op.db, op.coll, op.bson) : serialize(op as Document);
    parts.push(key, body);
    arrayBytes += key.length + body.length;
  }
  const head = Buffer.allocUnsafe(4 + 1 + 4 + 4);
  head.writeInt32LE(4 + 1 + 4 + arrayBytes + 1, 0); // whole document
  head.write('\x04ops\x00', 4, 'latin1');
  head.writeInt32LE(arrayBytes, 9);
  const tail = Buffer.from([0, 0]); // end of array, end of document
  return [head, ...parts, tail];
}

/**
 * Gives every Binary inside `value` its own bytes. Deserialized Binary values are views of the
 * buffer they were read from, and a read buffer must not stay alive for as long as one small
 * Binary (a UUID, say) that came from it.
 */
export function detachBinaries(value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) if (v !== null && typeof v === 'object') detachOne(v);
  } else if (value !== null && typeof value === 'object') {
    for (const k in value) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== null && typeof v === 'object') detachOne(v);
    }
  }
}

function detachOne(v: object): void {
  if (v instanceof Binary) v.buffer = Buffer.from(v.buffer.subarray(0, v.position));
  else if (!('_bsontype' in v)) detachBinaries(v);
}

export function decodeOps(payload: Buffer): JournalOp[] {
  const doc = deserialize(payload, DESERIALIZE);
  const ops: unknown = doc.ops;
  if (!Array.isArray(ops)) throw new Error('record has no ops array');
  detachBinaries(ops);
  return ops as JournalOp[];
}
