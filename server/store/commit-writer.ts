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

/** Batches on their way to the store at once: a new batch need not wait for the previous one. */
const MAX_BATCHES_IN_FLIGHT = 4;

/**
 * Writes commits of many rooms together: everything queued in one turn of the event loop goes out
 * as one unordered insertMany (later ones while MAX_BATCHES_IN_FLIGHT are out wait and merge into
 * the next), and each caller is answered only when its own commit is durable (the connection's
 * write concern) or refused. Batches in flight together never hold two commits of one room: the
 * room service appends a room's next command only after the previous one is answered.
 */
export class CommitWriter {
  private queue: Pending[] = [];
  private scheduled = false;
  private inFlight = 0;
  private idle: Array<() => void> = [];

  constructor(
    private readonly collection: Collection,
    private readonly options: { batching: boolean } = { batching: true },
  ) {}

  write(doc: Document): Promise<void> {
    if (!this.options.batching) return this.writeOne(doc);
    return new Promise((resolve, reject) => {
      this.queue.push({ doc, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once everything queued so far has been written or refused. */
  async drain(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private async writeOne(doc: Document): Promise<void> {
    try {
      await this.collection.insertOne(doc);
    } catch (err) {
      throw conflictOf(err) ?? err;
    }
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_BATCHES_IN_FLIGHT || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.send();
    });
  }

  private async send(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    this.inFlight++;
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
    this.inFlight--;
    batch.forEach((p, i) => (failed.has(i) ? p.reject(failed.get(i)) : p.resolve()));
    this.schedule();
    if (this.queue.length === 0 && this.inFlight === 0) this.idle.splice(0).forEach((resolve) => resolve());
  }
}

function conflictOf(err: unknown): CommitConflict | undefined {
  const e = err as { code?: number; keyPattern?: Record<string, unknown>; errmsg?: string; message?: string };
  if (e?.code !== 11000) return undefined;
  // Bulk write errors carry only the message, which names the index: "... index: roomId_1_clientId_1 dup key ...".
  const onClientId = e.keyPattern ? 'clientId' in e.keyPattern : /index: \S*clientId/.test(e.errmsg ?? e.message ?? '');
  return new CommitConflict(onClientId ? 'clientId' : 'seq');
}
