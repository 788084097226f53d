import type { Request, Response } from 'express';
import { Router } from 'express';
import multer from 'multer';
import { pipeline } from 'node:stream/promises';
import { decide, type RoomFile, type UserIdentity } from '../../../shared/domain/index.js';
import type { FileInfo, FileUploadResponse } from '../../../shared/schemas/http.js';
import { ApiError } from '../../application/errors.js';
import { displayName, SNIFF_BYTES, sniffContentType } from '../../application/files-content.js';
import type { RoomService } from '../../application/room-service.js';
import { FileTooLargeError, type FileBucket, type StoredFile } from '../../store/files-bucket.js';
import { currentUser } from './authenticate.js';
import { parse, RoomIdParamSchema } from './validate.js';

/** What the multipart envelope around the one file may add to MAX_UPLOAD_BYTES at most. */
const ENVELOPE_BYTES = 64 * 1024;

/** Everything but the file is bounded tightly: one file, a few small fields, few headers per part. */
const MULTIPART_LIMITS = {
  files: 1,
  fields: 4,
  parts: 5,
  fieldNameSize: 100,
  fieldSize: 1024,
  headerPairs: 10,
} as const;

/** POST /rooms/:id/files and GET /files/:id (PROTOCOL.md; the server's choices are in docs/PROTOCOL.md). */
export function fileRoutes(rooms: RoomService, bucket: FileBucket, maxUploadBytes: number): Router {
  const api = Router();

  api.post('/rooms/:id/files', async (req, res) => {
    const user = currentUser(req);
    const roomId = parse(RoomIdParamSchema, req.params.id);
    // Authorize before a byte of the body is read: outsiders and closed rooms cost nothing.
    const { state, actor } = await rooms.access(roomId, user);
    const probe = decide(state, PROBE_SHARE, actor, new Date());
    if (!probe.ok) throw new ApiError(probe.error.code, probe.error.message);
    const declared = Number(req.headers['content-length']);
    // Refused before anything is stored; Node discards the unread body, so the client (which
    // may still be sending) reads this answer instead of a broken pipe.
    if (Number.isFinite(declared) && declared > maxUploadBytes + ENVELOPE_BYTES)
      throw tooLarge(maxUploadBytes);

    const stored = await receiveUpload(req, res, bucket, { roomId, user, maxBytes: maxUploadBytes });
    const file: FileInfo = {
      id: stored.id,
      name: stored.name,
      size: stored.size,
      contentType: sniffContentType(stored.head),
      sha256: stored.sha256,
    };
    const { id: fileId, ...info } = file;
    const result = await rooms.shareFile(roomId, user, { fileId, ...info }).catch(async (err: unknown) => {
      // The room refused it after all (it ended meanwhile, the user was removed): keep nothing.
      await bucket.delete(fileId);
      throw err;
    });
    const body: FileUploadResponse = { ok: true, file, event: result.events[0]! };
    res.status(201).json(body);
  });

  api.get('/files/:id', async (req, res) => {
    const file = await sharedFile(rooms, bucket, String(req.params.id), currentUser(req));
    const etag = `"${file.sha256}"`;
    res.setHeader('Content-Type', file.contentType);
    res.setHeader('Content-Disposition', attachment(file.name));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // Even if a browser were to render it, the document could run nothing and reach nothing.
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    res.setHeader('Cache-Control', 'private, no-cache');
    res.setHeader('ETag', etag);
    res.setHeader('Accept-Ranges', 'bytes');

    if (matchesEtag(req.headers['if-none-match'], etag)) {
      res.status(304).end();
      return;
    }
    const ifRange = req.headers['if-range'];
    const range = ifRange === undefined || ifRange === etag ? parseRange(req.headers.range, file.size) : null;
    if (range === 'unsatisfiable') {
      res.setHeader('Content-Range', `bytes */${file.size}`);
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.removeHeader('Content-Disposition');
      res.status(416).json(new ApiError('INVALID', 'The requested range is not satisfiable').toBody());
      return;
    }
    const { start, end } = range ?? { start: 0, end: file.size - 1 };
    if (range) {
      res.status(206);
      res.setHeader('Content-Range', `bytes ${start}-${end}/${file.size}`);
    }
    res.setHeader('Content-Length', String(end - start + 1));
    if (req.method === 'HEAD' || file.size === 0) {
      res.end();
      return;
    }
    try {
      await pipeline(bucket.openRange(file.id, start, end), res);
    } catch (err) {
      // The client went away mid-download: nothing to answer.
      if (res.destroyed || req.destroyed) return;
      throw err;
    }
  });

  return api;
}

/** A stand-in share, to ask the room's rules whether this party may share files now at all. */
const PROBE_SHARE = {
  type: 'file.share',
  fileId: 'probe',
  name: 'probe',
  size: 0,
  contentType: 'application/octet-stream',
  sha256: '0'.repeat(64),
} as const;

function tooLarge(limit: number): ApiError {
  return new ApiError('TOO_LARGE', `The file is larger than the limit of ${limit} bytes`);
}

/**
 * Streams the request's one `file` part into GridFS through a multer storage engine. Resolves
 * with the stored file; rejects with the protocol error (nothing is kept on any failure).
 */
function receiveUpload(
  req: Request,
  res: Response,
  bucket: FileBucket,
  { roomId, user, maxBytes }: { roomId: string; user: UserIdentity; maxBytes: number },
): Promise<StoredFile & { name: string }> {
  let stored: (StoredFile & { name: string }) | undefined;
  const storage: multer.StorageEngine = {
    _handleFile(_req, file, callback) {
      const name = displayName(file.originalname);
      bucket
        .store(file.stream, { roomId, uploadedBy: user.id, name }, { maxBytes, headBytes: SNIFF_BYTES })
        .then(
          (result) => {
            stored = { ...result, name };
            callback(null, { filename: result.id, size: result.size });
          },
          (err: unknown) => callback(err),
        );
    },
    _removeFile(_req, file, callback) {
      // Multer gives up on an upload that was stored (a second file came): remove it again.
      stored = undefined;
      bucket.delete(file.filename).then(
        () => callback(null),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    },
  };
  const upload = multer({
    storage,
    limits: { ...MULTIPART_LIMITS, fileSize: maxBytes },
    defParamCharset: 'utf8',
    // The client's name arrives whole, so that displayName (not the parser) decides what is shown.
    preservePath: true,
  }).single('file');

  return new Promise((resolve, reject) => {
    upload(req, res, (err: unknown) => {
      if (err) {
        // A client that went away mid-upload is no server failure (and hears no answer anyway).
        reject(
          req.destroyed ? new ApiError('INVALID', 'The upload was interrupted') : uploadError(err, maxBytes),
        );
        return;
      }
      if (!stored) {
        reject(new ApiError('INVALID', 'Send the file as the multipart/form-data field "file"'));
        return;
      }
      resolve(stored);
    });
  });
}

function uploadError(err: unknown, maxBytes: number): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof FileTooLargeError) return tooLarge(maxBytes);
  if (err instanceof multer.MulterError) {
    if (err.code === 'LIMIT_FILE_SIZE') return tooLarge(maxBytes);
    if (err.code === 'LIMIT_FILE_COUNT' || err.code === 'LIMIT_UNEXPECTED_FILE') {
      return new ApiError('INVALID', 'Send exactly one file, as the multipart/form-data field "file"');
    }
    return new ApiError('INVALID', `Malformed upload: ${err.message}`);
  }
  // busboy's parse errors (no boundary, truncated body, malformed part headers).
  if (err instanceof Error && /multipart|boundary|unexpected end|malformed/i.test(err.message)) {
    return new ApiError('INVALID', `Malformed upload: ${err.message}`);
  }
  return ApiError.from(err);
}

/**
 * The file as shared in its room, for a party of that room. Any other caller, and any id that
 * is no shared file, gets the same refusal: outsiders cannot tell which ids exist.
 */
async function sharedFile(
  rooms: RoomService,
  bucket: FileBucket,
  fileId: string,
  user: UserIdentity,
): Promise<RoomFile> {
  const refused = new ApiError('FORBIDDEN', 'No such file in a room of yours');
  const owner = await bucket.ownerOf(fileId);
  if (!owner) throw refused;
  const state = await rooms.access(owner.roomId, user).then(
    (access) => access.state,
    (err: unknown) => {
      if (err instanceof ApiError && err.code === 'FORBIDDEN') throw refused;
      throw err;
    },
  );
  const file = Object.hasOwn(state.files, fileId) ? state.files[fileId] : undefined;
  if (!file) throw refused;
  return file;
}

/** `attachment` with an ASCII fallback name and the exact name in RFC 5987 form (RFC 6266). */
export function attachment(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

/**
 * One byte range of `Range: bytes=…` (RFC 9110): null to send the whole file (no header, a
 * syntax it ignores, or several ranges), 'unsatisfiable' when it starts past the end.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const match = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header.trim());
  if (!match) return null;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return null;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}
