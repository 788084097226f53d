import type { Request, RequestHandler } from 'express';
import { ApiError } from '../../application/errors.js';
import type { UserDirectory } from '../../application/user-directory.js';
import { bearerToken, verifyToken, type AuthenticatedUser, type JwtSettings } from '../auth/tokens.js';

const USER = Symbol('user');
type AuthedRequest = Request & { [USER]?: AuthenticatedUser };

/** Verifies the bearer token and records the caller's profile from its claims. */
export function authenticate(settings: JwtSettings, users: UserDirectory): RequestHandler {
  return async (req, _res, next) => {
    try {
      const user = verifyToken(bearerToken(req.headers.authorization), settings);
      (req as AuthedRequest)[USER] = user;
      await users.seen(user);
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** The caller authenticated by `authenticate`. */
export function currentUser(req: Request): AuthenticatedUser {
  const user = (req as AuthedRequest)[USER];
  if (!user) throw new ApiError('UNAUTHENTICATED', 'A bearer token is required');
  return user;
}
