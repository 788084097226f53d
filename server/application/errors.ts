import type { z } from 'zod';
import {
  ERROR_STATUS,
  errorResponse,
  type ErrorCode,
  type ErrorResponse,
} from '../../shared/schemas/errors.js';

export type { ErrorCode };

/** A failure a caller may see: the protocol's `{ ok: false, error: { code, message, details? } }`. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
  toBody(): ErrorResponse {
    return errorResponse(this.code, this.message, this.details);
  }
  /** Anything thrown on a request's path, as what the caller may be told. */
  static from(err: unknown): ApiError {
    return err instanceof ApiError ? err : new ApiError('INTERNAL', 'Internal error');
  }

  static invalid(error: z.ZodError): ApiError {
    return new ApiError('INVALID', 'Invalid input', error.issues);
  }
}
