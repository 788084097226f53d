import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { GridFSBucket, ObjectId, type Collection, type Db, type GridFSBucketWriteStream } from 'mongodb';
import type { Logger } from '../logger.js';

/** Where a stored file belongs; kept in the GridFS files document's metadata. */
export interface FileOwner {
  roomId: string;
  uploadedBy: string;
  /** The display name (already cleaned); the stored filename is generated. */
  name: string;
}

export interface StoredFile {
  /** The GridFS id as 24 lowercase hex digits (an IdSchema-valid file id). */
  id: string;
  size: number;
  sha256: string;
  /** The first bytes of the file (up to the `headBytes` asked for), for sniffing its type. */
  head: Buffer;
}

/** The upload went past its byte limit; nothing of it is kept. */
export class FileTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The file is larger than ${limit} bytes`);
  }
}

const FILE_ID = /^[0-9a-f]{24}$/;
/** How long a discard waits for chunk writes already in flight before deleting what they wrote. */
const SETTLE_TIMEOUT_MS = 30_000;

/**
 * Files in GridFS (bucket `files`): streamed in with their sha256, size and sniffed type computed
 * on the way (never the whole file in memory), streamed out by byte range.
 */
export class FileBucket {
  private readonly bucket: GridFSBucket;
  private readonly files: Collection;
  private readonly chunks: Collection;

  constructor(
    db: Db,
    private readonly logger: Logger,
    bucketName = 'files',
  ) {
    this.bucket = new GridFSBucket(db, { bucketName });
    this.files = db.collection(`${bucketName}.files`);
    this.chunks = db.collection(`${bucketName}.chunks`);
  }

  /**
   * Streams `source` into a new GridFS file. Past `maxBytes`, or when the source fails (the
   * client went away), every chunk already written is deleted before this rejects.
   */
  async store(
    source: Readable,
    owner: FileOwner,
    { maxBytes, headBytes }: { maxBytes: number; headBytes: number },
  ): Promise<StoredFile> {
    const id = new ObjectId();
    const upload = this.bucket.openUploadStreamWithId(id, id.toHexString(), { metadata: { ...owner } });
    const hash = createHash('sha256');
    const head: Buffer[] = [];
    let kept = 0;
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > maxBytes) {
          done(new FileTooLargeError(maxBytes));
          return;
        }
        hash.update(chunk);
        if (kept < headBytes) {
          const part = chunk.subarray(0, headBytes - kept);
          head.push(Buffer.from(part));
          kept += part.length;
        }
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, upload);
    } catch (err) {
      await this.discard(upload).catch((cleanupErr: unknown) =>
        this.logger.error(
          { err: cleanupErr, fileId: id.toHexString() },
          'could not remove an unfinished upload',
        ),
      );
      throw err;
    }
    return { id: id.toHexString(), size, sha256: hash.digest('hex'), head: Buffer.concat(head) };
  }

  /** The room a stored file belongs to, or null for anything that is not a stored file's id. */
  async ownerOf(fileId: string): Promise<{ roomId: string; length: number } | null> {
    if (!FILE_ID.test(fileId)) return null;
    const doc = await this.files.findOne(
      { _id: new ObjectId(fileId) },
      { projection: { length: 1, metadata: 1 } },
    );
    const roomId: unknown = doc?.metadata?.roomId;
    if (!doc || typeof roomId !== 'string') return null;
    return { roomId, length: Number(doc.length) };
  }

  /** Bytes `start` to `end` inclusive of a stored file. */
  openRange(fileId: string, start: number, end: number): Readable {
    return this.bucket.openDownloadStream(new ObjectId(fileId), { start, end: end + 1 });
  }

  /** Deletes a file and its chunks (a no-op for one that is not there). */
  async delete(fileId: string): Promise<void> {
    if (!FILE_ID.test(fileId)) return;
    const id = new ObjectId(fileId);
    await this.chunks.deleteMany({ files_id: id });
    await this.files.deleteOne({ _id: id });
  }

  /** Stops an unfinished upload and removes whatever it wrote, including writes still in flight. */
  private async discard(upload: GridFSBucketWriteStream): Promise<void> {
    // abort() marks the stream aborted at once (no further chunk starts) and deletes chunks.
    await upload.abort().catch(() => undefined);
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    while (upload.state.outstandingRequests > 0 && Date.now() < deadline) await sleep(5);
    await this.delete(upload.id.toHexString());
    // Under load a chunk write the stream had already handed off can still land after that
    // delete (seen with the store on its own thread): look again until none is left.
    while (
      Date.now() < deadline &&
      (await this.chunks.countDocuments({ files_id: upload.id }, { limit: 1 })) > 0
    ) {
      await sleep(20);
      await this.delete(upload.id.toHexString());
    }
  }
}
