import type { z } from 'zod';
import {
  CandidaciesResponseSchema,
  DevTokenResponseSchema,
  ErrorResponseSchema,
  FileUploadResponseSchema,
  NotificationsResponseSchema,
  RoomResponseSchema,
  RoomsListResponseSchema,
  type CreateRoomBody,
  type ErrorBody,
} from '../../shared/schemas/index.js';

/** A failed request: the protocol's error body, or a network failure (`code` NETWORK). */
export class ApiFailure extends Error {
  constructor(
    readonly code: ErrorBody['code'] | 'NETWORK',
    message: string,
  ) {
    super(message);
  }
}

let token: string | null = null;
export function setToken(value: string | null): void {
  token = value;
}

async function call<S extends z.ZodType>(
  schema: S,
  method: string,
  path: string,
  body?: unknown,
): Promise<z.infer<S>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiFailure('NETWORK', 'The server cannot be reached');
  }
  const json: unknown = await res.json().catch(() => null);
  if (!res.ok) throw failureOf(json, res.status);
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ApiFailure('INTERNAL', `Unexpected answer from ${path}`);
  return parsed.data;
}

function failureOf(json: unknown, status: number): ApiFailure {
  const err = ErrorResponseSchema.safeParse(json);
  return err.success
    ? new ApiFailure(err.data.error.code, err.data.error.message)
    : new ApiFailure('INTERNAL', `HTTP ${status}`);
}

export const api = {
  devToken: (userId: string) => call(DevTokenResponseSchema, 'POST', '/api/dev/token', { userId }),
  rooms: () => call(RoomsListResponseSchema, 'GET', '/api/rooms'),
  room: (id: string) => call(RoomResponseSchema, 'GET', `/api/rooms/${encodeURIComponent(id)}`),
  createRoom: (body: CreateRoomBody) => call(RoomResponseSchema, 'POST', '/api/rooms', body),
  candidacies: () => call(CandidaciesResponseSchema, 'GET', '/api/candidacies'),
  notifications: () => call(NotificationsResponseSchema, 'GET', '/api/notifications'),
};

export type UploadResult = z.infer<typeof FileUploadResponseSchema>;

/** Uploads one file to a room with XMLHttpRequest, reporting progress (0–1). */
export function uploadFile(
  roomId: string,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<UploadResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/rooms/${encodeURIComponent(roomId)}/files`);
    if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      const json: unknown = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) {
        const parsed = FileUploadResponseSchema.safeParse(json);
        if (parsed.success) {
          onProgress(1);
          resolve(parsed.data);
        } else reject(new ApiFailure('INTERNAL', 'Unexpected answer to the upload'));
      } else reject(failureOf(json, xhr.status));
    });
    xhr.addEventListener('error', () =>
      reject(new ApiFailure('NETWORK', 'The upload failed: the server cannot be reached')),
    );
    xhr.addEventListener('abort', () => reject(new ApiFailure('NETWORK', 'The upload was cancelled')));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

/** Downloads a shared file (the request needs the token, so it goes through fetch and a blob URL). */
export async function downloadFile(fileId: string, name: string): Promise<void> {
  const res = await fetch(`/api/files/${encodeURIComponent(fileId)}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (!res.ok) throw failureOf(await res.json().catch(() => null), res.status);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
