import type { Collection, Document, MongoBulkWriteError } from 'mongodb';

/** Why a commit was refused: another writer took the seq, or the clientId was seen before. */
export class CommitConflict extends Error {
  constructor(readonly on: 'seq' | 'clientId') {
    super(`commit conflicts on ${on}`);
  }
}

interface Pending {
  doc: Document;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Writes commits of many rooms together: everything queued while a write is in flight goes out
 * as one unordered insertMany, and each caller is answered only when its own commit is durable
 * (the connection's write concern) or refused.
 */
export class CommitWriter {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly collection: Collection,
    private readonly options: { batching: boolean } = { batching: true },
  ) {}

  write(doc: Document): Promise<void> {
    if (!this.options.batching) return this.writeOne(doc);
    return new Promise((resolve, reject) => {
      this.queue.push({ doc, resolve, reject });
      if (!this.flushing) setImmediate(() => void this.flush());
      this.flushing = true;
    });
  }

  /** Resolves once everything queued so far has been written or refused. */
  async drain(): Promise<void> {
    while (this.flushing || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private async writeOne(doc: Document): Promise<void> {
    try {
      await this.collection.insertOne(doc);
    } catch (err) {
      throw conflictOf(err) ?? err;
    }
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      const failed = new Map<number, unknown>();
      try {
        await this.collection.insertMany(
          batch.map((p) => p.doc),
          { ordered: false },
        );
      } catch (err) {
        const writeErrors = (err as Partial<MongoBulkWriteError>).writeErrors;
        const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : undefined;
        if (!list) {
          // Nothing is known about which documents landed: fail them all; callers retry by clientId.
          batch.forEach((_, i) => failed.set(i, err));
        } else {
          for (const we of list) failed.set(we.index, conflictOf(we) ?? new Error(we.errmsg ?? 'write failed'));
        }
      }
      batch.forEach((p, i) => (failed.has(i) ? p.reject(failed.get(i)) : p.resolve()));
    }
    this.flushing = false;
  }
}

function conflictOf(err: unknown): CommitConflict | undefined {
  const e = err as { code?: number; keyPattern?: Record<string, unknown>; errmsg?: string; message?: string };
  if (e?.code !== 11000) return undefined;
  // Bulk write errors carry only the message, which names the index: "... index: roomId_1_clientId_1 dup key ...".
  const onClientId = e.keyPattern ? 'clientId' in e.keyPattern : /index: \S*clientId/.test(e.errmsg ?? e.message ?? '');
  return new CommitConflict(onClientId ? 'clientId' : 'seq');
}
