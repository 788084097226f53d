import { deserialize, serialize, Long } from 'bson';
import type { Document } from 'bson';
import { deflateSync, inflateSync } from 'node:zlib';

/** MongoDB wire protocol framing: OP_QUERY / OP_REPLY (legacy handshake), OP_MSG, OP_COMPRESSED. */

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

export const MSG_CHECKSUM_PRESENT = 1;
export const MSG_MORE_TO_COME = 2;

export const COMPRESSOR_NOOP = 0;
export const COMPRESSOR_ZLIB = 2;

export const MAX_MESSAGE_SIZE = 48_000_000;
/** The largest document (and reply) MongoDB accepts. */
export const MAX_BSON_SIZE = 16 * 1024 * 1024;

const DESERIALIZE_OPTIONS = { promoteLongs: false, promoteBuffers: false, bsonRegExp: false } as const;

export interface Request {
  requestId: number;
  opCode: number;
  /** The command, with OP_MSG document sequences merged in as arrays. */
  command: Document;
  /** For OP_QUERY: the full collection name (`admin.$cmd`). */
  fullCollectionName?: string;
  moreToCome: boolean;
  /** The compressor the request came with (replies use the same), or undefined. */
  compressor: number | undefined;
}

/**
 * On a command whose `documents` came as an OP_MSG document sequence: each document's bytes as
 * received, so that an insert journals them as they are instead of serializing them again.
 */
export const RAW_DOCUMENTS = Symbol('raw documents');

export function readDocs(buf: Buffer, start: number, end: number, raws?: Uint8Array[]): Document[] {
  const out: Document[] = [];
  let pos = start;
  while (pos < end) {
    const len = buf.readInt32LE(pos);
    const bytes = buf.subarray(pos, pos + len);
    out.push(deserialize(bytes, DESERIALIZE_OPTIONS));
    raws?.push(bytes);
    pos += len;
  }
  return out;
}

function readCString(buf: Buffer, pos: number): [string, number] {
  const end = buf.indexOf(0, pos);
  if (end < 0) throw new Error('unterminated string in message');
  return [buf.toString('utf8', pos, end), end + 1];
}

/** Parses one complete message (header included). */
export function parseMessage(msg: Buffer, compressor?: number): Request {
  const requestId = msg.readInt32LE(4);
  const opCode = msg.readInt32LE(12);
  if (opCode === OP_COMPRESSED) {
    const originalOpcode = msg.readInt32LE(16);
    const uncompressedSize = msg.readInt32LE(20);
    const compressorId = msg.readUInt8(24);
    const data = msg.subarray(25);
    let body: Buffer;
    if (compressorId === COMPRESSOR_NOOP) body = data;
    else if (compressorId === COMPRESSOR_ZLIB) body = inflateSync(data);
    else throw new Error(`unsupported compressor ${compressorId}`);
    if (body.length !== uncompressedSize) throw new Error('compressed message has the wrong size');
    const header = Buffer.alloc(16);
    header.writeInt32LE(16 + body.length, 0);
    header.writeInt32LE(requestId, 4);
    header.writeInt32LE(msg.readInt32LE(8), 8);
    header.writeInt32LE(originalOpcode, 12);
    return parseMessage(Buffer.concat([header, body]), compressorId);
  }
  if (opCode === OP_QUERY) {
    let pos = 16 + 4;
    const [fullCollectionName, next] = readCString(msg, pos);
    pos = next + 8;
    const len = msg.readInt32LE(pos);
    const command = deserialize(msg.subarray(pos, pos + len), DESERIALIZE_OPTIONS);
    // Legacy form wraps the command as { $query: {...}, $readPreference }.
    const inner =
      command.$query !== undefined && typeof command.$query === 'object'
        ? (command.$query as Document)
        : command;
    const db = fullCollectionName.split('.')[0] ?? 'admin';
    return {
      requestId,
      opCode,
      command: { ...inner, $db: db },
      fullCollectionName,
      moreToCome: false,
      compressor,
    };
  }
  if (opCode === OP_MSG) {
    const flags = msg.readUInt32LE(16);
    const end = flags & MSG_CHECKSUM_PRESENT ? msg.length - 4 : msg.length;
    let pos = 20;
    let command: Document | undefined;
    const sequences: Array<[string, Document[], Uint8Array[]]> = [];
    while (pos < end) {
      const kind = msg.readUInt8(pos);
      pos += 1;
      if (kind === 0) {
        const len = msg.readInt32LE(pos);
        command = deserialize(msg.subarray(pos, pos + len), DESERIALIZE_OPTIONS);
        pos += len;
      } else if (kind === 1) {
        const size = msg.readInt32LE(pos);
        const [id, docsStart] = readCString(msg, pos + 4);
        const raws: Uint8Array[] = [];
        sequences.push([id, readDocs(msg, docsStart, pos + size, raws), raws]);
        pos += size;
      } else {
        throw new Error(`unknown OP_MSG section kind ${kind}`);
      }
    }
    if (!command) throw new Error('OP_MSG without a body section');
    for (const [id, docs, raws] of sequences) {
      command[id] = docs;
      if (id === 'documents') Object.defineProperty(command, RAW_DOCUMENTS, { value: raws });
    }
    return { requestId, opCode, command, moreToCome: (flags & MSG_MORE_TO_COME) !== 0, compressor };
  }
  throw new Error(`unsupported opCode ${opCode}`);
}

let nextRequestId = 1;

function header(length: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(nextRequestId++ & 0x7fffffff, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

function compress(message: Buffer, compressor: number): Buffer {
  const body = message.subarray(16);
  const data = compressor === COMPRESSOR_ZLIB ? deflateSync(body) : body;
  const h = header(16 + 9 + data.length, message.readInt32LE(8), OP_COMPRESSED);
  const meta = Buffer.alloc(9);
  meta.writeInt32LE(message.readInt32LE(12), 0);
  meta.writeInt32LE(body.length, 4);
  meta.writeUInt8(compressor, 8);
  return Buffer.concat([h, meta, data]);
}

/** The reply to a request, in the request's form (OP_REPLY for OP_QUERY) and compression. */
export function encodeReply(req: Request, doc: Document): Buffer {
  const body = serialize(doc);
  let message: Buffer;
  if (req.opCode === OP_QUERY) {
    const fixed = Buffer.alloc(20);
    fixed.writeInt32LE(8, 0); // AwaitCapable
    const cursorId = Long.ZERO;
    fixed.writeInt32LE(cursorId.low, 4);
    fixed.writeInt32LE(cursorId.high, 8);
    fixed.writeInt32LE(0, 12);
    fixed.writeInt32LE(1, 16);
    message = Buffer.concat([header(16 + 20 + body.length, req.requestId, OP_REPLY), fixed, body]);
  } else {
    const flags = Buffer.alloc(5);
    flags.writeUInt32LE(0, 0);
    flags.writeUInt8(0, 4);
    message = Buffer.concat([header(16 + 5 + body.length, req.requestId, OP_MSG), flags, body]);
  }
  if (req.compressor !== undefined && req.compressor !== COMPRESSOR_NOOP)
    return compress(message, req.compressor);
  if (req.compressor === COMPRESSOR_NOOP) return compress(message, COMPRESSOR_NOOP);
  return message;
}
