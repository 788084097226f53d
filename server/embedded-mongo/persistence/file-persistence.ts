/*
 * The embedded store's persistence on disk: appends to DATA_DIR's log and rotates it for each
 * snapshot (layout.ts describes the directory, snapshot-writer.ts writes a snapshot, recovery.ts
 * reads them back when the store opens).
 */
import { writeSync } from 'node:fs';
import { mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { frameHeader } from './frames.js';
import { describe, fsyncDir, LOG_OR_TORN_RE, logName, SNAPSHOT_RE } from './layout.js';
import { acquireLock, errorCode } from './lock.js';
import { encodeOps } from './records.js';
import { recover } from './recovery.js';
import { writeSnapshotFile } from './snapshot-writer.js';
import type { CollectionImage, JournalOp, Persistence, RecoveredState } from './types.js';

export interface FilePersistenceOptions {
  /** The least log since the last snapshot before the next one is due (see snapshotDue). */
  snapshotEveryBytes?: number;
  /** Called after every fsync of the log (tests count group commits with it). */
  onSync?: () => void;
  /** Where recovery reports a truncated tail (default: console.warn). */
  warn?: (message: string) => void;
}

export interface FilePersistenceStats {
  /** Records appended (one per append call). */
  records: number;
  /** Fsyncs of the log (each covers every record written before it started). */
  syncs: number;
  /** Bytes written to logs by this process. */
  bytesWritten: number;
  snapshots: number;
}

export interface FilePersistence extends Persistence {
  readonly dataDir: string;
  readonly snapshotEveryBytes: number;
  /** Bytes appended to the logs since the last snapshot. */
  readonly logBytes: number;
  /** Size of the newest snapshot file (0 before the first). */
  readonly snapshotBytes: number;
  /**
   * True once logBytes has passed both snapshotEveryBytes and snapshotBytes, and no snapshot is
   * running. A snapshot rewrites the whole store: after a fixed amount of log, a growing store
   * would write ever more snapshot per byte of log (quadratic in its size); waiting for as much
   * log as the last snapshot keeps snapshots to at most the log they replace, and recovery
   * replays at most that much log.
   */
  readonly snapshotDue: boolean;
  readonly stats: Readonly<FilePersistenceStats>;
}

export const DEFAULT_SNAPSHOT_EVERY_BYTES = 64 * 1024 * 1024;
/**
 * How soon a record appended without journaling is fsynced anyway: MongoDB's own journal commit
 * interval, so a power failure loses at most this much of what was acknowledged that way.
 */
export const LAZY_SYNC_MS = 100;

/** A record appended while the log is being switched: written to the new log once it is open. */
interface HeldRecord {
  buffer: Buffer;
  journaled: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A journaled record waiting for the fsync that covers its end. */
interface SyncWaiter {
  end: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

class FileLog implements FilePersistence {
  readonly stats: FilePersistenceStats = { records: 0, syncs: 0, bytesWritten: 0, snapshots: 0 };
  logBytes: number;
  snapshotBytes: number;

  /** Bytes of the current log known to be on disk (everything before this offset). */
  private synced: number;
  private waiters: SyncWaiter[] = [];
  private syncing: Promise<void> | null = null;
  private syncScheduled = false;
  private syncAgain = false;
  private lazySync: NodeJS.Timeout | null = null;
  /** Set while the log is switched: appends wait in `held`, in order, for the new log. */
  private switching: Promise<void> | null = null;
  private held: HeldRecord[] = [];
  private failure: Error | null = null;
  private closed = false;
  private snapshotting: Promise<void> | null = null;

  constructor(
    readonly dataDir: string,
    readonly snapshotEveryBytes: number,
    private fh: FileHandle,
    private logNumber: number,
    private position: number,
    logBytes: number,
    snapshotBytes: number,
    private readonly releaseLock: () => Promise<void>,
    private readonly onSync: (() => void) | undefined,
  ) {
    this.logBytes = logBytes;
    this.snapshotBytes = snapshotBytes;
    this.synced = position;
  }

  get snapshotDue(): boolean {
    return (
      this.snapshotting === null && this.logBytes >= Math.max(this.snapshotEveryBytes, this.snapshotBytes)
    );
  }

  /**
   * Writes the record to the log at once (a write to the operating system: a crash of this
   * process cannot lose it). A journaled record resolves after the fsync that covers it, every
   * record of one event-loop turn sharing one fsync (group commit); any other record resolves
   * now, and is fsynced within LAZY_SYNC_MS by the background sync.
   */
  append(ops: JournalOp[], journaled = true): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('persistence is closed'));
    if (ops.length === 0) return Promise.resolve();
    let buffer: Buffer;
    try {
      // Serialized now, so later in-place changes by the caller cannot alter what is logged.
      const payload = encodeOps(ops);
      buffer = Buffer.concat([frameHeader(payload), ...payload]);
    } catch (err) {
      return Promise.reject(err);
    }
    this.logBytes += buffer.length;
    this.stats.records++;
    if (this.switching) {
      return new Promise<void>((resolve, reject) => this.held.push({ buffer, journaled, resolve, reject }));
    }
    return this.write(buffer, journaled);
  }

  private write(buffer: Buffer, journaled: boolean): Promise<void> {
    try {
      // Synchronous on purpose: a write into the page cache takes microseconds and no thread
      // hop, while the fsyncs (which on a virtual disk now and then take hundreds of ms) run
      // beside it and never hold a write up.
      let done = 0;
      while (done < buffer.length) {
        const n = writeSync(this.fh.fd, buffer, done, buffer.length - done, this.position + done);
        if (n <= 0) throw new Error('write made no progress');
        done += n;
      }
    } catch (err) {
      // The log may now end in a partial write; appending after it would put acknowledged
      // records behind a torn one. Stop accepting writes (recovery truncates the tail).
      this.fail(err);
      return Promise.reject(this.failure);
    }
    this.position += buffer.length;
    this.stats.bytesWritten += buffer.length;
    if (!journaled) {
      this.lazySync ??= setTimeout(() => {
        this.lazySync = null;
        this.scheduleSync();
      }, LAZY_SYNC_MS);
      return Promise.resolve();
    }
    const end = this.position;
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ end, resolve, reject });
      this.scheduleSync();
    });
  }

  /** Starts an fsync once this turn's appends are written (one fsync covers them all). */
  private scheduleSync(): void {
    if (this.syncScheduled) return;
    this.syncScheduled = true;
    setImmediate(() => {
      this.syncScheduled = false;
      this.startSync();
    });
  }

  /** One fsync at a time; what is written while one runs is covered by the next, right after it. */
  private startSync(): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    // A log switch syncs the old log itself before closing it.
    if (this.switching || this.failure || this.synced >= this.position) return;
    this.syncing = this.syncOnce().finally(() => {
      this.syncing = null;
      if (this.syncAgain) {
        this.syncAgain = false;
        this.startSync();
      }
    });
  }

  /** Fsyncs what is written so far and answers the waiters it covers. */
  private async syncOnce(): Promise<void> {
    const target = this.position;
    try {
      await this.fh.datasync();
    } catch (err) {
      // After a failed fsync the kernel may have dropped the dirty pages: nothing written since
      // the last good fsync can be trusted to be on disk.
      this.fail(err);
      return;
    }
    this.synced = target;
    this.stats.syncs++;
    this.onSync?.();
    const covered = this.waiters.filter((w) => w.end <= target);
    this.waiters = this.waiters.filter((w) => w.end > target);
    if (this.waiters.length > 0) this.syncAgain = true;
    for (const w of covered) w.resolve();
  }

  private fail(err: unknown): void {
    this.failure ??= new Error(`Writing the log in ${this.dataDir} failed: ${describe(err)}`, { cause: err });
    for (const w of this.waiters.splice(0)) w.reject(this.failure);
    for (const h of this.held.splice(0)) h.reject(this.failure);
  }

  /** Moves appends to a new log; resolves with its number once every record before it is durable. */
  private async rotate(): Promise<number> {
    if (this.failure) throw this.failure;
    this.logBytes = 0;
    let switched!: () => void;
    this.switching = new Promise<void>((resolve) => (switched = resolve));
    try {
      while (this.syncing) await this.syncing;
      if (!this.failure && this.synced < this.position) await this.syncOnce();
      if (this.failure) throw this.failure;
      await this.switchLog();
    } catch (err) {
      this.fail(err);
      throw this.failure ?? err;
    } finally {
      this.switching = null;
      switched();
      for (const h of this.held.splice(0)) this.write(h.buffer, h.journaled).then(h.resolve, h.reject);
    }
    return this.logNumber;
  }

  private async switchLog(): Promise<void> {
    const next = this.logNumber + 1;
    const fh = await open(join(this.dataDir, logName(next)), 'wx');
    try {
      await fsyncDir(this.dataDir); // the new log's name must be durable before records in it are
    } catch (err) {
      await fh.close();
      throw err;
    }
    const old = this.fh;
    this.fh = fh;
    this.logNumber = next;
    this.position = 0;
    this.synced = 0;
    await old.close();
  }

  snapshot(source: () => Iterable<CollectionImage>): Promise<void> {
    if (this.closed) return Promise.reject(new Error('persistence is closed'));
    if (!this.snapshotting) {
      this.snapshotting = this.writeSnapshot(source).finally(() => {
        this.snapshotting = null;
      });
    }
    return this.snapshotting;
  }

  private async writeSnapshot(source: () => Iterable<CollectionImage>): Promise<void> {
    const n = await this.rotate();
    this.snapshotBytes = await writeSnapshotFile(this.dataDir, n, source);
    this.stats.snapshots++;
    // Everything before log n is now covered by the snapshot.
    for (const name of await readdir(this.dataDir)) {
      const log = LOG_OR_TORN_RE.exec(name); // torn tails kept aside go with their log
      const snap = SNAPSHOT_RE.exec(name);
      const number = Number(log?.[1] ?? snap?.[1] ?? Number.NaN);
      if (number < n) await unlink(join(this.dataDir, name)).catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.snapshotting?.catch(() => {});
      while (this.switching) await this.switching;
      if (this.lazySync) clearTimeout(this.lazySync);
      while (this.syncing) await this.syncing;
      if (!this.failure && this.synced < this.position) await this.syncOnce();
      await this.fh.close();
    } finally {
      await this.releaseLock();
    }
    if (this.failure) throw this.failure;
  }
}

/**
 * Opens (creating if needed) the store's data directory: takes its lock, recovers the snapshot and
 * the log after it, and returns the persistence that appends to the log from there.
 */
export async function openFilePersistence(
  dataDir: string,
  options: FilePersistenceOptions = {},
): Promise<{ persistence: FilePersistence; recovered: RecoveredState }> {
  const created = await mkdir(dataDir, { recursive: true });
  if (created !== undefined) {
    // New directories must be durable entries of their parents before anything in them is.
    for (let d = resolve(dataDir); ; d = dirname(d)) {
      await fsyncDir(dirname(d));
      if (d === resolve(created) || dirname(d) === d) break;
    }
  }
  const releaseLock = await acquireLock(dataDir);
  try {
    const recovery = await recover(dataDir, options.warn ?? ((m) => console.warn(`[embedded-mongo] ${m}`)));
    const path = join(dataDir, logName(recovery.logNumber));
    let fh: FileHandle;
    try {
      fh = await open(path, 'r+');
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
      fh = await open(path, 'wx');
      await fsyncDir(dataDir);
    }
    const size = (await stat(path)).size;
    if (size !== recovery.logSize) throw new Error(`Log ${path} changed size during recovery`);
    const persistence = new FileLog(
      dataDir,
      options.snapshotEveryBytes ?? DEFAULT_SNAPSHOT_EVERY_BYTES,
      fh,
      recovery.logNumber,
      recovery.logSize,
      recovery.logBytes,
      recovery.snapshotBytes,
      releaseLock,
      options.onSync,
    );
    return { persistence, recovered: recovery.state };
  } catch (err) {
    await releaseLock();
    throw err;
  }
}
