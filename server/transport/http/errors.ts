import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ApiError } from '../../application/errors.js';
import type { Logger } from '../../logger.js';

/** Turns any failure into the protocol's error shape with its HTTP status. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    const apiError = toApiError(err);
    if (apiError.code === 'INTERNAL') logger.error({ err }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(apiError.status).json(apiError.toBody());
  };
}

export const notFound: RequestHandler = (_req, _res, next) =>
  next(new ApiError('NOT_FOUND', 'No such endpoint'));

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  // body-parser's own errors: malformed JSON, oversized bodies.
  const e = err as { type?: string; status?: number };
  if (e?.type === 'entity.parse.failed') return new ApiError('INVALID', 'Malformed JSON body');
  if (e?.type === 'entity.too.large' || e?.status === 413)
    return new ApiError('TOO_LARGE', 'Request body too large');
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new ApiError('INVALID', 'Bad request');
  }
  return ApiError.from(err);
}
