import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { IdSchema } from '../../../shared/schemas/common.js';
import { ApiError } from '../../application/errors.js';

/** Who a verified token says the caller is. The signing platform vouches for these claims. */
export interface AuthenticatedUser {
  id: string;
  name: string;
  agency?: { id: string; role: 'manager' | 'member' };
  /** Token expiry, epoch seconds: a socket is disconnected when it passes. */
  exp: number;
}

const ClaimsSchema = z.object({
  sub: IdSchema,
  name: z.string().min(1).max(200).optional(),
  agency: z.object({ id: IdSchema, role: z.enum(['manager', 'member']) }).optional(),
  exp: z.number().int(),
});

export type JwtSettings = Config['jwt'];

/**
 * Verifies a bearer token with the configured algorithm only (so `none` and HS/RS confusion are
 * refused), requires `exp`, and checks issuer and audience when configured.
 */
export function verifyToken(token: string | undefined, settings: JwtSettings): AuthenticatedUser {
  if (!token) throw new ApiError('UNAUTHENTICATED', 'A bearer token is required');
  let payload: unknown;
  try {
    payload = jwt.verify(token, verificationKey(settings), {
      algorithms: [settings.algorithm],
      ...(settings.issuer ? { issuer: settings.issuer } : {}),
      ...(settings.audience ? { audience: settings.audience } : {}),
    });
  } catch (err) {
    const reason = err instanceof jwt.TokenExpiredError ? 'Token expired' : 'Invalid token';
    throw new ApiError('UNAUTHENTICATED', reason);
  }
  const claims = ClaimsSchema.safeParse(payload);
  if (!claims.success)
    throw new ApiError('UNAUTHENTICATED', 'Token claims are missing or malformed (sub and exp are required)');
  const { sub, name, agency, exp } = claims.data;
  return { id: sub, name: name ?? sub, ...(agency ? { agency } : {}), exp };
}

/**
 * The configured key as a KeyObject, made once per settings: given the string, jsonwebtoken parses
 * it again on every verification (and for a secret first fails to read it as a PEM key), which
 * made a connection's handshake cost a millisecond. The KeyObject's type (secret or public) still
 * has to match the token's algorithm. A key that cannot be read stays a string: tokens then fail
 * to verify, as they would have.
 */
const verificationKeys = new WeakMap<JwtSettings, KeyObject | string>();

function verificationKey(settings: JwtSettings): KeyObject | string {
  let key = verificationKeys.get(settings);
  if (key === undefined) {
    try {
      key =
        settings.algorithm === 'HS256'
          ? createSecretKey(Buffer.from(settings.key))
          : createPublicKey(settings.key);
    } catch {
      key = settings.key;
    }
    verificationKeys.set(settings, key);
  }
  return key;
}

/** Reads `Authorization: Bearer <token>`. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}
