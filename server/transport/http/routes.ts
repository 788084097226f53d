import { Router } from 'express';
import { z } from 'zod';
import { redactState, visibleTo } from '../../../shared/domain/index.js';
import { CommandSchema } from '../../../shared/schemas/commands.js';
import { ClientIdSchema } from '../../../shared/schemas/socket.js';
import { CreateRoomBodySchema, DevTokenBodySchema, EventsQuerySchema } from '../../../shared/schemas/http.js';
import { ApiError } from '../../application/errors.js';
import { exportRoom } from '../../application/room-export.js';
import type { RoomQueries } from '../../application/room-queries.js';
import type { RoomService } from '../../application/room-service.js';
import type { Config } from '../../config.js';
import { findDevUser, signDevToken } from '../auth/dev-users.js';
import type { HistoryBudget } from '../history-budget.js';
import { currentUser } from './authenticate.js';
import { parse, RoomIdParamSchema } from './validate.js';

const HttpCommandBodySchema = z.strictObject({ clientId: ClientIdSchema, command: CommandSchema });

/** Every HTTP endpoint of PROTOCOL.md behind authentication. */
export function apiRoutes(rooms: RoomService, queries: RoomQueries, history: HistoryBudget): Router {
  const api = Router();

  api.post('/rooms', async (req, res) => {
    const user = currentUser(req);
    const body = parse(CreateRoomBodySchema, req.body);
    const state = await rooms.create(user, body);
    const { actor } = await rooms.access(state.id, user);
    res.status(201).json({ ok: true, room: redactState(state, actor) });
  });

  api.get('/rooms', async (req, res) => {
    res.json({ ok: true, rooms: await queries.listRooms(currentUser(req)) });
  });

  api.get('/rooms/:id', async (req, res) => {
    const { state, actor } = await rooms.access(parse(RoomIdParamSchema, req.params.id), currentUser(req));
    res.json({ ok: true, room: redactState(state, actor) });
  });

  api.get('/rooms/:id/events', async (req, res) => {
    const user = currentUser(req);
    const { state, actor } = await rooms.access(parse(RoomIdParamSchema, req.params.id), user);
    const { after, limit } = parse(EventsQuerySchema, req.query);
    const events = await history.read(
      user.id,
      () => queries.visibleEvents(state.id, actor, after, limit),
      (read) => read.length,
    );
    res.json({ ok: true, events, seq: state.seq });
  });

  api.get('/rooms/:id/export', async (req, res) => {
    const user = currentUser(req);
    const { state, actor } = await rooms.access(parse(RoomIdParamSchema, req.params.id), user);
    const body = await history.read(
      user.id,
      () => exportRoom(state, actor, queries),
      (exported) => exported.events.length,
    );
    res.setHeader('Content-Disposition', `attachment; filename="workroom-${state.id}.json"`);
    res.json(body);
  });

  // The same command path as the socket's room:command, for clients without a socket.
  api.post('/rooms/:id/commands', async (req, res) => {
    const user = currentUser(req);
    const roomId = parse(RoomIdParamSchema, req.params.id);
    const { clientId, command } = parse(HttpCommandBodySchema, req.body);
    const result = await rooms.execute(roomId, user, clientId, command);
    res.status(result.duplicate ? 200 : 201).json({
      ok: true,
      seq: result.seq,
      events: result.events.filter((e) => visibleTo(e, result.actor)),
    });
  });

  api.get('/candidacies', async (req, res) => {
    res.json({ ok: true, candidacies: await queries.candidacies(currentUser(req)) });
  });

  api.get('/notifications', async (req, res) => {
    res.json({ ok: true, notifications: await queries.notifications(currentUser(req).id) });
  });

  return api;
}

/** POST /api/dev/token: a token for a seeded user. Mounted only outside production. */
export function devTokenRoute(jwt: Config['jwt']): Router {
  const router = Router();
  router.post('/dev/token', (req, res) => {
    if (jwt.algorithm !== 'HS256')
      throw new ApiError('NOT_FOUND', 'Development tokens need JWT_SECRET (HS256)');
    const { userId } = parse(DevTokenBodySchema, req.body);
    const user = findDevUser(userId);
    if (!user) throw new ApiError('NOT_FOUND', `No seeded user "${userId}"`);
    res.json({ ok: true, token: signDevToken(user, jwt), user });
  });
  return router;
}
