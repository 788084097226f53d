import { calculateObjectSize, Long } from 'bson';
import type { Document } from 'bson';
import { fail } from './errors.js';
import { num } from './command-args.js';
import { MAX_BSON_SIZE } from './wire.js';

interface Cursor {
  ns: string;
  docs: Document[];
  pos: number;
  lastUsed: number;
}

/** A cursor id as the driver sends it: a Long, or a plain number. */
function cursorIdOf(raw: unknown): bigint {
  return raw instanceof Long ? raw.toBigInt() : BigInt(num(raw, 0));
}

/** Room left in a 16 MiB reply for the envelope around a batch. */
const BATCH_BYTES = MAX_BSON_SIZE - 64 * 1024;

/** Open cursors: the rest of a query's results, handed out batch by batch (getMore). */
export class Cursors {
  private readonly open = new Map<bigint, Cursor>();
  private nextId = BigInt(Date.now()) * 1000n;

  constructor(private readonly timeoutMs: number) {}

  /** The first batch of `docs`; the rest stays open as a cursor unless `single` or it all fits. */
  reply(ns: string, docs: Document[], batchSize: number, single: boolean): Document {
    const batch = this.takeBatch(docs, 0, batchSize);
    let id = 0n;
    if (!single && batch.length < docs.length) {
      id = this.nextId++;
      this.open.set(id, { ns, docs, pos: batch.length, lastUsed: Date.now() });
    }
    return { cursor: { firstBatch: batch, id: Long.fromBigInt(id), ns }, ok: 1 };
  }

  private takeBatch(docs: Document[], from: number, batchSize: number): Document[] {
    const max = batchSize > 0 ? batchSize : Infinity;
    const out: Document[] = [];
    let bytes = 0;
    for (let i = from; i < docs.length && out.length < max; i++) {
      const d = docs[i] as Document;
      const size = calculateObjectSize(d);
      if (out.length > 0 && bytes + size > BATCH_BYTES) break;
      bytes += size;
      out.push(d);
    }
    return out;
  }

  /** Forgets cursors idle for longer than the timeout. */
  reap(): void {
    const now = Date.now();
    for (const [id, c] of this.open) if (now - c.lastUsed > this.timeoutMs) this.open.delete(id);
  }

  getMore(cmd: Document): Document {
    const id = cursorIdOf(cmd.getMore);
    const cur = this.open.get(id);
    if (!cur) fail(43, `cursor id ${id.toString()} not found`);
    const batch = this.takeBatch(cur.docs, cur.pos, num(cmd.batchSize, 0));
    cur.pos += batch.length;
    cur.lastUsed = Date.now();
    let outId = id;
    if (cur.pos >= cur.docs.length) {
      this.open.delete(id);
      outId = 0n;
    }
    return { cursor: { nextBatch: batch, id: Long.fromBigInt(outId), ns: cur.ns }, ok: 1 };
  }

  kill(cmd: Document): Document {
    const ids = Array.isArray(cmd.cursors) ? (cmd.cursors as unknown[]) : [];
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const raw of ids) {
      const id = cursorIdOf(raw);
      if (this.open.delete(id)) killed.push(Long.fromBigInt(id));
      else notFound.push(Long.fromBigInt(id));
    }
    return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
  }
}
