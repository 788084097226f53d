import type { RequestHandler } from 'express';
import type { Allowance } from '../allowance.js';
import { currentUser } from './authenticate.js';

/**
 * Every authenticated API request draws on its user's allowance, refused before any work. A POST
 * appends to a room (a command, a new room, a shared file): it counts as a command, as
 * `room:command` does. Anything else is a read, and counts as a socket's other events do.
 */
export function requestAllowance(limits: { commands: Allowance; reads: Allowance }): RequestHandler {
  return async (req, _res, next) => {
    try {
      const { id } = currentUser(req);
      if (req.method === 'POST') await limits.commands.take(`user:${id}`);
      else await limits.reads.take(`reads:${id}`);
      next();
    } catch (err) {
      next(err);
    }
  };
}
