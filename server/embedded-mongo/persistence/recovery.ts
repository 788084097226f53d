import { deserialize, deserializeStream } from 'bson';
import type { Document } from 'bson';
import { open, readdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scanFrames } from './frames.js';
import {
  describe,
  K_COLLECTION,
  K_DOCS,
  K_END,
  K_HEADER,
  LOG_RE,
  logName,
  SNAPSHOT_FORMAT,
  SNAPSHOT_RE,
  snapshotName,
} from './layout.js';
import { DESERIALIZE, decodeOps, detachBinaries } from './records.js';
import type { CollectionImage, JournalOp, RecoveredState } from './types.js';

export interface Recovery {
  state: RecoveredState;
  /** Log to continue appending to, its size after truncation, and the log bytes since the snapshot. */
  logNumber: number;
  logSize: number;
  logBytes: number;
  /** Size of the snapshot recovered from (0 without one). */
  snapshotBytes: number;
}

/** Reads one snapshot file, refusing anything incomplete or of another format. */
async function loadSnapshot(
  path: string,
  expectedLog: number,
): Promise<{ collections: CollectionImage[]; bytes: number }> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const collections: CollectionImage[] = [];
    let current: Document[] | null = null;
    let sawHeader = false;
    let end: Document | null = null;
    let docCount = 0;
    const result = await scanFrames(fh, size, (payload, offset) => {
      const kind = payload[0];
      const body = kind === K_DOCS ? {} : deserialize(payload.subarray(1), DESERIALIZE);
      if (end) throw new Error(`data after the end marker at offset ${offset}`);
      if (!sawHeader) {
        if (kind !== K_HEADER || body.format !== SNAPSHOT_FORMAT || body.version !== 1) {
          throw new Error('not a snapshot of this format');
        }
        if (body.log !== expectedLog)
          throw new Error(`header names log ${String(body.log)}, file name ${expectedLog}`);
        sawHeader = true;
        return;
      }
      switch (kind) {
        case K_COLLECTION: {
          current = [];
          collections.push({
            db: String(body.db),
            coll: String(body.coll),
            options: (body.options ?? {}) as Document,
            indexes: (body.indexes ?? []) as Document[],
            docs: current,
          });
          return;
        }
        case K_DOCS: {
          if (!current) throw new Error(`documents before any collection at offset ${offset}`);
          const count = payload.readUInt32LE(1);
          const start = current.length;
          const next = deserializeStream(payload, 5, count, current, start, DESERIALIZE);
          if (next !== payload.length)
            throw new Error(`documents frame at offset ${offset} has trailing bytes`);
          for (let i = start; i < current.length; i++) detachBinaries(current[i]);
          docCount += count;
          return;
        }
        case K_END:
          end = body;
          return;
        default:
          throw new Error(`unknown frame kind ${String(kind)} at offset ${offset}`);
      }
    });
    if (result.problem) throw new Error(result.problem);
    const footer = end as Document | null;
    if (!footer) throw new Error('it has no end marker (incomplete)');
    if (footer.collections !== collections.length || footer.docs !== docCount) {
      throw new Error('its end marker does not match its contents');
    }
    return { collections, bytes: size };
  } finally {
    await fh.close();
  }
}

/** Reads DATA_DIR back: the newest snapshot, then every log from it on, cutting off a torn tail. */
export async function recover(dataDir: string, warn: (message: string) => void): Promise<Recovery> {
  const names = await readdir(dataDir);
  const logs: number[] = [];
  const snapshots: number[] = [];
  for (const name of names) {
    const log = LOG_RE.exec(name);
    if (log) logs.push(Number(log[1]));
    const snap = SNAPSHOT_RE.exec(name);
    if (snap) snapshots.push(Number(snap[1]));
    if (name.endsWith('.snap.tmp')) await unlink(join(dataDir, name)); // an interrupted snapshot
  }
  logs.sort((a, b) => a - b);
  snapshots.sort((a, b) => a - b);

  let collections: CollectionImage[] = [];
  let snapshotBytes = 0;
  const snapshotNumber = snapshots.at(-1);
  let base: number;
  if (snapshotNumber !== undefined) {
    const path = join(dataDir, snapshotName(snapshotNumber));
    try {
      ({ collections, bytes: snapshotBytes } = await loadSnapshot(path, snapshotNumber));
    } catch (err) {
      throw new Error(
        `Snapshot ${path} is unreadable: ${describe(err)}. Refusing to start rather than lose data.`,
        {
          cause: err,
        },
      );
    }
    base = snapshotNumber;
  } else {
    base = logs[0] ?? 1;
    if (base !== 1) {
      throw new Error(
        `${join(dataDir, logName(base))} is the oldest log but there is no snapshot covering the logs before it: ` +
          'data is missing. Refusing to start.',
      );
    }
  }

  const replay = logs.filter((n) => n >= base);
  for (let i = 0; i < replay.length; i++) {
    if (replay[i] !== base + i) {
      throw new Error(
        `Log ${join(dataDir, logName(base + i))} is missing (found ${logName(replay[i] ?? 0)}). Refusing to start.`,
      );
    }
  }

  const records: JournalOp[][] = [];
  let truncatedBytes = 0;
  let logBytes = 0;
  let logSize = 0;
  for (let i = 0; i < replay.length; i++) {
    const n = replay[i] as number;
    const path = join(dataDir, logName(n));
    const isLast = i === replay.length - 1;
    const fh = await open(path, isLast ? 'r+' : 'r');
    try {
      const size = (await fh.stat()).size;
      const result = await scanFrames(fh, size, (payload, offset) => {
        try {
          records.push(decodeOps(payload));
        } catch (err) {
          // The checksum matched, so this is not a torn write: never drop it silently.
          throw new Error(
            `Log ${path}: the record at offset ${offset} has a valid checksum but cannot be decoded: ${describe(err)}`,
            {
              cause: err,
            },
          );
        }
      });
      if (result.problem) {
        if (!isLast) {
          throw new Error(
            `Log ${path} is corrupt (${result.problem}) and is not the last log, so the records after it ` +
              'cannot be trusted. Refusing to start rather than silently drop data.',
          );
        }
        // A torn or corrupt tail of the last log: the write that never completed (or was never
        // acknowledged). Cut it off so that new records follow the last good one, keeping the
        // bytes aside in case it was damage rather than a torn write.
        truncatedBytes = size - result.validBytes;
        const keptAs = `${path}.torn-${result.validBytes}`;
        const tail = Buffer.alloc(truncatedBytes);
        await fh.read(tail, 0, truncatedBytes, result.validBytes);
        await writeFile(keptAs, tail, { flush: true });
        warn(
          `${path}: ${result.problem}; truncated ${truncatedBytes} byte(s) of torn tail at offset ` +
            `${result.validBytes} (kept in ${keptAs})`,
        );
        await fh.truncate(result.validBytes);
        await fh.sync();
      }
      logBytes += result.validBytes;
      if (isLast) logSize = result.validBytes;
    } finally {
      await fh.close();
    }
  }

  // Leftovers of a snapshot whose clean-up was interrupted.
  for (const n of logs) if (n < base) await unlink(join(dataDir, logName(n)));
  for (const n of snapshots) if (n < base) await unlink(join(dataDir, snapshotName(n)));

  const logNumber = replay.at(-1) ?? base;
  return { state: { collections, records, truncatedBytes }, logNumber, logSize, logBytes, snapshotBytes };
}
