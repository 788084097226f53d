import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

/**
 * Framing shared by the log and the snapshot files: every record is
 *
 *   u32 LE payload length | u32 LE CRC-32 of (length bytes + payload) | payload
 *
 * so a reader can tell a complete record from a torn or corrupted one without trusting anything
 * after the first bad byte.
 */
export const FRAME_HEADER_BYTES = 8;

/** Far above any legitimate record (a 48 MiB insert batch); a larger length is garbage. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** Frame header for a payload made of `parts` (written as header + parts, no copy). */
export function frameHeader(parts: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const p of parts) length += p.length;
  if (length === 0 || length > MAX_FRAME_BYTES) {
    throw new RangeError(`record of ${length} bytes is outside the allowed 1..${MAX_FRAME_BYTES}`);
  }
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32LE(length, 0);
  let crc = crc32(header.subarray(0, 4));
  for (const p of parts) crc = crc32(p, crc);
  header.writeUInt32LE(crc, 4);
  return header;
}

export interface ScanResult {
  /** Offset just past the last complete, valid record. */
  validBytes: number;
  fileBytes: number;
  /** Why reading stopped before the end of the file, or null if every byte was a valid record. */
  problem: string | null;
}

const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Reads `fh` (of `fileBytes` bytes) frame by frame in bounded chunks and hands each valid payload
 * to `onFrame`. The payload is a view of a reused read buffer, valid only during the call: copy
 * whatever must outlive it (deserialized Binary values point into their source). Stops at the first torn or corrupt frame and
 * reports where; exceptions thrown by `onFrame` propagate.
 */
export async function scanFrames(
  fh: FileHandle,
  fileBytes: number,
  onFrame: (payload: Buffer, offset: number) => void,
): Promise<ScanResult> {
  let buf = Buffer.alloc(0);
  let bufStart = 0; // file offset of buf[0]
  let pos = 0; // read position inside buf
  let fileOffset = 0; // next file offset to read

  /** Makes at least `n` bytes available from `pos`; false if the file ends first. */
  async function ensure(n: number): Promise<boolean> {
    if (buf.length - pos >= n) return true;
    const rest = buf.subarray(pos);
    const toRead = Math.min(Math.max(n - rest.length, READ_CHUNK_BYTES), fileBytes - fileOffset);
    if (toRead <= 0) return false;
    const next = Buffer.allocUnsafe(rest.length + toRead);
    rest.copy(next, 0);
    let filled = 0;
    while (filled < toRead) {
      const { bytesRead } = await fh.read(next, rest.length + filled, toRead - filled, fileOffset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    bufStart += pos;
    buf = next.subarray(0, rest.length + filled);
    pos = 0;
    fileOffset += filled;
    return buf.length >= n;
  }

  for (;;) {
    const offset = bufStart + pos;
    if (offset >= fileBytes) return { validBytes: offset, fileBytes, problem: null };
    if (!(await ensure(FRAME_HEADER_BYTES))) {
      return { validBytes: offset, fileBytes, problem: `torn record header at offset ${offset}` };
    }
    const length = buf.readUInt32LE(pos);
    const expected = buf.readUInt32LE(pos + 4);
    if (length === 0 || length > MAX_FRAME_BYTES) {
      return {
        validBytes: offset,
        fileBytes,
        problem: `invalid record length ${length} at offset ${offset}`,
      };
    }
    if (offset + FRAME_HEADER_BYTES + length > fileBytes) {
      return {
        validBytes: offset,
        fileBytes,
        problem: `record of ${length} bytes at offset ${offset} runs past the end of the file (torn write)`,
      };
    }
    if (!(await ensure(FRAME_HEADER_BYTES + length))) {
      return { validBytes: offset, fileBytes, problem: `file shrank while reading at offset ${offset}` };
    }
    const payload = buf.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + length);
    const actual = crc32(payload, crc32(buf.subarray(pos, pos + 4)));
    if (actual !== expected) {
      return {
        validBytes: offset,
        fileBytes,
        problem: `checksum mismatch in the record at offset ${offset}`,
      };
    }
    onFrame(payload, offset);
    pos += FRAME_HEADER_BYTES + length;
  }
}
