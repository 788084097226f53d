import type { z } from 'zod';
import { ApiError } from '../../application/errors.js';

/** Parses input with a shared schema; anything else is INVALID with the zod issues as details. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw ApiError.invalid(result.error);
  return result.data;
}
