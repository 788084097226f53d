import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/*
 * The embedded store's DATA_DIR, shared by the writer (file-persistence.ts) and recovery:
 *
 *   LOCK                  pid of the process that owns the directory
 *   log-000007.wal        append-only log; one frame per append(ops), payload BSON { ops }
 *   snapshot-000007.snap  the whole store as it was when log 7 was started (possibly fuzzy:
 *                         log 7 onwards corrects it, since every op is an idempotent post-image)
 *
 * Recovery = newest snapshot N + logs N, N+1, … in order. A snapshot is written to a .tmp file,
 * fsynced, renamed into place and the directory fsynced; only then are the logs and snapshots
 * before N deleted.
 */

export const LOG_RE = /^log-(\d+)\.wal$/;
export const LOG_OR_TORN_RE = /^log-(\d+)\.wal(?:\.torn-\d+)?$/;
export const SNAPSHOT_RE = /^snapshot-(\d+)\.snap$/;

/** Snapshot frame kinds (first payload byte). */
export const K_HEADER = 0x48; // 'H'
export const K_COLLECTION = 0x43; // 'C'
export const K_DOCS = 0x44; // 'D': u32 count, then that many BSON documents back to back
export const K_END = 0x45; // 'E'
export const SNAPSHOT_FORMAT = 'workroom-embedded-mongo-snapshot';

export const logName = (n: number): string => `log-${String(n).padStart(6, '0')}.wal`;
export const snapshotName = (n: number): string => `snapshot-${String(n).padStart(6, '0')}.snap`;

export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    // Directories cannot be opened or fsynced on Windows; elsewhere this must work.
    if (process.platform !== 'win32') throw err;
  } finally {
    await fh?.close();
  }
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
