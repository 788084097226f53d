import { serialize } from 'bson';
import type { Document } from 'bson';
import { open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { frameHeader } from './frames.js';
import { fsyncDir, K_COLLECTION, K_DOCS, K_END, K_HEADER, SNAPSHOT_FORMAT, snapshotName } from './layout.js';
import type { CollectionImage } from './types.js';

const SNAPSHOT_CHUNK_BYTES = 256 * 1024; // written between yields to the engine
const SNAPSHOT_DOCS_FRAME_BYTES = 128 * 1024;
const SNAPSHOT_SLICE_MS = 4;
const SNAPSHOT_SYNC_EVERY_BYTES = 4 * 1024 * 1024;

async function writeFully(fh: FileHandle, buffers: Uint8Array[], position: number): Promise<number> {
  let total = 0;
  for (const b of buffers) total += b.length;
  let written = 0;
  let pending: Uint8Array[] = buffers;
  while (written < total) {
    const { bytesWritten } = await fh.writev(pending, position + written);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    written += bytesWritten;
    if (written < total) {
      // Partial write: continue with what is left.
      let skip = bytesWritten;
      const rest: Uint8Array[] = [];
      for (const b of pending) {
        if (skip >= b.length) {
          skip -= b.length;
          continue;
        }
        rest.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
      pending = rest;
    }
  }
  return total;
}

/**
 * Writes snapshot `n` of the store (the images `source` yields) into the data directory: to a .tmp
 * file, fsynced, then renamed into place and the directory fsynced. Serializing yields to the
 * engine every few ms. Returns the snapshot's size in bytes.
 */
export async function writeSnapshotFile(
  dataDir: string,
  n: number,
  source: () => Iterable<CollectionImage>,
): Promise<number> {
  const finalPath = join(dataDir, snapshotName(n));
  const tmpPath = `${finalPath}.tmp`;
  const fh = await open(tmpPath, 'w');
  let size: number;
  try {
    let chunk: Uint8Array[] = [];
    let chunkBytes = 0;
    let position = 0;
    const pushFrame = (payload: Uint8Array[]): void => {
      const header = frameHeader(payload);
      chunk.push(header, ...payload);
      chunkBytes += header.length;
      for (const p of payload) chunkBytes += p.length;
    };
    const push = (kind: number, body: Document): void => pushFrame([Buffer.of(kind), serialize(body)]);
    let unsynced = 0;
    const flush = async (): Promise<void> => {
      const written = await writeFully(fh, [Buffer.concat(chunk, chunkBytes)], position);
      position += written;
      chunk = [];
      chunkBytes = 0;
      unsynced += written;
      if (unsynced >= SNAPSHOT_SYNC_EVERY_BYTES) {
        // Keep little dirty snapshot data in the page cache: on ext4 (ordered mode) each log
        // fsync would otherwise have to write it out first, stalling acknowledgements.
        await fh.datasync();
        unsynced = 0;
      }
    };
    // Documents go out many to a frame: one checksum and one header per ~128 KiB.
    let docsBuf = Buffer.allocUnsafe(SNAPSHOT_DOCS_FRAME_BYTES);
    let docsLen = 5;
    let docsCount = 0;
    const endDocsFrame = (): void => {
      if (docsCount === 0) return;
      docsBuf[0] = K_DOCS;
      docsBuf.writeUInt32LE(docsCount, 1);
      pushFrame([docsBuf.subarray(0, docsLen)]);
      docsBuf = Buffer.allocUnsafe(SNAPSHOT_DOCS_FRAME_BYTES);
      docsLen = 5;
      docsCount = 0;
    };
    const pushDoc = (doc: Document): void => {
      const bytes = serialize(doc);
      if (docsLen + bytes.length > docsBuf.length) {
        endDocsFrame();
        if (5 + bytes.length > docsBuf.length) docsBuf = Buffer.allocUnsafe(5 + bytes.length);
      }
      docsBuf.set(bytes, docsLen);
      docsLen += bytes.length;
      docsCount++;
    };

    push(K_HEADER, { format: SNAPSHOT_FORMAT, version: 1, log: n, createdAt: new Date() });
    let collections = 0;
    let docs = 0;
    let sliceStart = performance.now();
    // Streamed in bounded chunks; the engine keeps serving between them.
    for (const image of source()) {
      push(K_COLLECTION, {
        db: image.db,
        coll: image.coll,
        options: image.options,
        indexes: image.indexes,
      });
      collections++;
      for (const doc of image.docs) {
        pushDoc(doc);
        docs++;
        if (chunkBytes >= SNAPSHOT_CHUNK_BYTES) {
          await flush();
          sliceStart = performance.now();
        } else if ((docs & 127) === 0 && performance.now() - sliceStart > SNAPSHOT_SLICE_MS) {
          // Serializing is CPU work on the engine's thread: let commands run every few ms.
          await new Promise<void>((r) => setImmediate(r));
          sliceStart = performance.now();
        }
      }
      endDocsFrame();
    }
    push(K_END, { collections, docs });
    await flush();
    await fh.sync();
    size = position;
  } catch (err) {
    await fh.close();
    await unlink(tmpPath).catch(() => {});
    throw err;
  }
  await fh.close();
  await rename(tmpPath, finalPath);
  await fsyncDir(dataDir);
  return size;
}
