import { z } from 'zod';
import { ApiError } from '../../application/errors.js';

/** Parses input with a shared schema; anything else is INVALID with the zod issues as details. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw ApiError.invalid(result.error);
  return result.data;
}

/**
 * A room id in a path. Only bounded here: an id that names no room the caller is a party to
 * gets the same FORBIDDEN as a real room they are not in, whatever it looks like.
 */
export const RoomIdParamSchema = z.string().min(1).max(100);
