import type { Document } from 'bson';

/**
 * One change to the store, as it is made durable. Documents are written as whole post-images
 * (never as update operators), so replaying an operation twice gives the same result: that is
 * what lets a snapshot be taken while writes continue and still be corrected by the log after it.
 */
export type JournalOp =
  /** `bson`, when given, is exactly `doc` as BSON (as the client sent it): journaled as it is. */
  | { op: 'put'; db: string; coll: string; doc: Document; bson?: Uint8Array }
  | { op: 'delete'; db: string; coll: string; id: unknown }
  | { op: 'createCollection'; db: string; coll: string; options: Document }
  | { op: 'dropCollection'; db: string; coll: string }
  | { op: 'createIndex'; db: string; coll: string; spec: Document }
  | { op: 'dropIndex'; db: string; coll: string; name: string }
  | { op: 'dropDatabase'; db: string };

/** A collection as the snapshot writes it and recovery hands it back. */
export interface CollectionImage {
  db: string;
  coll: string;
  options: Document;
  /** Index specs as listIndexes shows them, `_id_` included. */
  indexes: Document[];
  docs: Iterable<Document>;
}

/** What recovery found: the latest snapshot, then every complete log record after it, in order. */
export interface RecoveredState {
  collections: CollectionImage[];
  /** Each inner array is one record: apply all of it or none. */
  records: JournalOp[][];
  /** Bytes of torn or corrupt tail that were truncated from the log (0 on a clean shutdown). */
  truncatedBytes: number;
}

export interface Persistence {
  /**
   * Appends one all-or-nothing record, written to the log at once (a crash of the process cannot
   * lose it). `journaled` (the default) resolves only once it is fsynced: every record appended
   * in the same event-loop turn shares one fsync (group commit). Otherwise it resolves at once
   * and is fsynced shortly after (MongoDB's w:1 without j).
   */
  append(ops: JournalOp[], journaled?: boolean): Promise<void>;
  /**
   * Writes a snapshot of the whole store and rotates the log. `source` is read after the rotation
   * point, possibly while writes continue; replaying the log after that point corrects it.
   */
  snapshot(source: () => Iterable<CollectionImage>): Promise<void>;
  /**
   * True when the log since the last snapshot has grown enough that the engine should take the
   * next one (and none is being written).
   */
  readonly snapshotDue: boolean;
  close(): Promise<void>;
}
