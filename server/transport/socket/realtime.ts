import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { Server, type Socket } from 'socket.io';
import {
  redactState,
  visibleTo,
  type Actor,
  type RoomState,
  type StoredEvent,
} from '../../../shared/domain/index.js';
import {
  ClientPayloadSchemas,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '../../../shared/schemas/socket.js';
import type { Candidacy } from '../../../shared/schemas/http.js';
import { CANDIDACY_EVENTS, candidacyOf, summaryOf } from '../../application/candidacy.js';
import { ApiError } from '../../application/errors.js';
import type { NotificationView } from '../../application/notifier.js';
import type { RoomQueries } from '../../application/room-queries.js';
import type { RoomService } from '../../application/room-service.js';
import type { UserDirectory } from '../../application/user-directory.js';
import type { Config } from '../../config.js';
import type { Logger } from '../../logger.js';
import { verifyToken, type AuthenticatedUser } from '../auth/tokens.js';
import type { Allowance } from '../allowance.js';
import type { HistoryBudget } from '../history-budget.js';
import { memoryRateLimiter } from '../rate-limit.js';
import { audienceChannel, channels, viewerChannels } from './channels.js';
import { CatchUpTurns } from './catch-up-turns.js';
import { CoalescingWebSocketServer, pauseReading } from './coalescing-websocket.js';

interface SocketData {
  user: AuthenticatedUser;
  /** Workrooms this socket joined, with the party it joined as. */
  joined: Map<string, Actor>;
}

type IO = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type EventName = keyof typeof ClientPayloadSchemas;

export interface RealtimeDeps {
  config: Config;
  logger: Logger;
  rooms: RoomService;
  queries: RoomQueries;
  users: UserDirectory;
  commands: Allowance;
  history: HistoryBudget;
}

/** Commands and their catch-up pages are small; anything larger is refused by the transport. */
const MAX_MESSAGE_BYTES = 256 * 1024;
/** How many events one join/sync reads per page while catching up a large gap. */
const CATCH_UP_PAGE = 500;
/** How long a connection past one of its budgets is not read from. */
const RATE_LIMITED_PAUSE_MS = 1_000;

/**
 * Socket.IO on the HTTP server: authenticate the handshake, then one thin handler per client
 * event (validate → authorize → application → ack), and broadcasts of appended events to exactly
 * the viewers each may reach.
 */
export function createRealtime(http: HttpServer, deps: RealtimeDeps) {
  const { config, logger, rooms, queries, users, commands, history } = deps;
  const io: IO = new Server(http, {
    maxHttpBufferSize: MAX_MESSAGE_BYTES,
    allowRequest: (req, callback) => callback(null, originAllowed(req, config.corsOrigins)),
    cors: { origin: config.corsOrigins, credentials: false },
    pingInterval: 20_000,
    pingTimeout: 20_000,
    wsEngine: CoalescingWebSocketServer,
  });

  io.use((socket, next) => {
    try {
      const token: unknown = socket.handshake.auth?.token;
      const user = verifyToken(typeof token === 'string' ? token : undefined, config.jwt);
      const open = io.of('/').adapter.rooms.get(channels.user(user.id))?.size ?? 0;
      if (open >= config.maxConnectionsPerUser) return next(new Error('RATE_LIMITED'));
      socket.data.user = user;
      socket.data.joined = new Map();
      void users.seen(user).catch((err: unknown) => logger.warn({ err }, 'profile not recorded'));
      next();
    } catch {
      next(new Error('UNAUTHENTICATED'));
    }
  });

  io.on('connection', (socket) => {
    const { user } = socket.data;
    void socket.join(channels.user(user.id));
    if (user.agency?.role === 'manager') void socket.join(channels.agencyManagers(user.agency.id));
    // A socket lives no longer than its token.
    const expiresIn = Math.min(user.exp * 1000 - Date.now(), 2 ** 31 - 1);
    const expiry = setTimeout(() => socket.disconnect(true), Math.max(expiresIn, 0));

    // Every client event but commands (which have their own limit) draws on one budget: reads
    // and typing fan out to the room, catch-ups read the log, and none may come without end.
    const eventBudget = memoryRateLimiter(config.rateLimitEvents);
    // Past a budget of its own, the connection is not read from for a while: a client that keeps
    // on sending waits on its side, instead of costing the server a refusal for each request. A
    // long-polling connection cannot be held back (each request is read whole), so it is closed.
    const overLimit = () => {
      const ws = (socket.conn.transport as { socket?: unknown }).socket;
      if (!pauseReading(ws, RATE_LIMITED_PAUSE_MS)) socket.conn.close();
    };
    /** Counts an event, with an ack or without, and answers whether it is past the budget. */
    const overEventBudget = (event: string, ack: unknown) => {
      // Commands are counted by their own limit when they run; one without an ack never runs.
      const counted = event !== 'room:command' || typeof ack !== 'function';
      if (!counted || eventBudget.hit(socket.id)) return false;
      overLimit();
      return true;
    };
    const eventsLimited = () =>
      new ApiError('RATE_LIMITED', `At most ${config.rateLimitEvents} events per 10 seconds`);

    const handle = <E extends EventName>(
      event: E,
      run: (payload: ReturnType<(typeof ClientPayloadSchemas)[E]['parse']>) => Promise<object>,
    ) => {
      (socket as unknown as Socket).on(event as string, async (payload: unknown, ack: unknown) => {
        const overBudget = overEventBudget(event, ack);
        if (typeof ack !== 'function') return;
        try {
          if (overBudget) throw eventsLimited();
          const parsed = ClientPayloadSchemas[event].safeParse(payload);
          if (!parsed.success) throw ApiError.invalid(parsed.error);
          ack({
            ok: true,
            ...(await run(parsed.data as ReturnType<(typeof ClientPayloadSchemas)[E]['parse']>)),
          });
        } catch (err) {
          const apiError = ApiError.from(err);
          if (apiError.code === 'INTERNAL') logger.error({ err, event }, 'socket event failed');
          ack(apiError.toBody());
        }
      });
    };

    const catchUpTurns = new CatchUpTurns(socket);

    /** A catch-up: in the connection's turn, within the user's budget of history. */
    const catchUpRead = <T extends { events: StoredEvent[] }>(read: () => Promise<T>) =>
      catchUpTurns.run(() => history.read(user.id, read, (reply) => reply.events.length));

    handle('room:join', ({ roomId, since }) =>
      catchUpRead(async () => {
        const { actor } = await rooms.access(roomId, user);
        await socket.join(viewerChannels(roomId, actor));
        socket.data.joined.set(roomId, actor);
        // Subscribed first, read second: anything appended meanwhile arrives live or in the page
        // (or both; clients drop a seq they already have).
        const state = (await rooms.state(roomId))!;
        const events = await catchUp(roomId, actor, since ?? 0);
        void announcePresence(roomId);
        return { room: redactState(state, actor), events, seq: Math.max(state.seq, events.at(-1)?.seq ?? 0) };
      }),
    );

    handle('room:leave', async ({ roomId }) => {
      const actor = socket.data.joined.get(roomId);
      if (actor) {
        for (const channel of viewerChannels(roomId, actor)) await socket.leave(channel);
        socket.data.joined.delete(roomId);
        void announcePresence(roomId);
      }
      return {};
    });

    handle('room:sync', ({ roomId, since }) =>
      catchUpRead(async () => {
        const { state, actor } = await rooms.access(roomId, user);
        const events = await catchUp(roomId, actor, since);
        return { events, seq: Math.max(state.seq, events.at(-1)?.seq ?? 0) };
      }),
    );

    const commandKey = `conn:${socket.id}`;
    handle('room:command', async ({ roomId, clientId, command }) => {
      try {
        const counted = commands.take(commandKey);
        if (counted) await counted;
      } catch (err) {
        // A refusal, not a counter that failed (Redis away), holds the connection back.
        if (err instanceof ApiError && err.code === 'RATE_LIMITED') overLimit();
        throw err;
      }
      const result = await rooms.execute(roomId, user, clientId, command);
      const visible = result.events.every((e) => visibleTo(e, result.actor));
      return {
        seq: result.seq,
        events: visible ? result.events : result.events.filter((e) => visibleTo(e, result.actor)),
      };
    });

    handle('room:read', async ({ roomId, seq }) => {
      const { state } = await rooms.access(roomId, user);
      const read = await queries.markRead(roomId, user.id, Math.min(seq, state.seq));
      io.to([channels.room(roomId), channels.user(user.id)]).emit('room:read', {
        roomId,
        userId: user.id,
        seq: read,
      });
      return {};
    });

    handle('room:typing', async ({ roomId, typing }) => {
      if (!socket.data.joined.has(roomId)) throw new ApiError('CONFLICT', 'Join the room first');
      socket.to(channels.room(roomId)).emit('room:typing', { roomId, userId: user.id, typing });
      return {};
    });

    socket.onAny((event: string, ...args: unknown[]) => {
      if (Object.hasOwn(ClientPayloadSchemas, event)) return;
      const ack = args.at(-1);
      const overBudget = overEventBudget(event, ack);
      if (typeof ack !== 'function') return;
      const refusal = overBudget ? eventsLimited() : new ApiError('INVALID', `Unknown event "${event}"`);
      ack(refusal.toBody());
    });

    socket.on('disconnect', () => {
      clearTimeout(expiry);
      for (const roomId of socket.data.joined.keys()) void announcePresence(roomId);
    });
  });

  /** Every event after `since` this viewer may see, read page by page however large the gap. */
  async function catchUp(roomId: string, viewer: Actor, since: number): Promise<StoredEvent[]> {
    const all: StoredEvent[] = [];
    let after = since;
    for (;;) {
      const page = await queries.visibleEvents(roomId, viewer, after, CATCH_UP_PAGE);
      all.push(...page);
      if (page.length < CATCH_UP_PAGE) return all;
      after = page.at(-1)!.seq;
    }
  }

  /** Who is online in a room, across every node (the adapter asks the others). */
  async function announcePresence(roomId: string): Promise<void> {
    try {
      const sockets = await io.in(channels.room(roomId)).fetchSockets();
      const online = [...new Set(sockets.map((s) => s.data.user.id))].sort();
      io.to(channels.room(roomId)).emit('room:presence', { roomId, online });
    } catch (err) {
      logger.warn({ err, roomId }, 'presence not announced');
    }
  }

  /** Broadcasts appended events: each to the one channel of its audience. */
  function broadcast(room: RoomState, events: StoredEvent[]): void {
    for (const event of events) {
      io.to(audienceChannel(room.id, event.audience)).emit('room:event', { roomId: room.id, event });
    }
    if (events.some((e) => CANDIDACY_EVENTS.has(e.type))) announceCandidacy(room);
  }

  /** Each party's candidacy list changes live: principals, interviewers and agency managers. */
  function announceCandidacy(room: RoomState): void {
    const summary = summaryOf(room);
    const send = (channel: string, candidacy: Candidacy) =>
      io.to(channel).emit('candidacy:updated', { candidacy });
    send(channels.user(room.clientId), candidacyOf(summary, 'client'));
    for (const id of room.interviewerIds) send(channels.user(id), candidacyOf(summary, 'interviewer'));
    send(channels.user(room.freelancerId), candidacyOf(summary, 'freelancer'));
    if (room.agencyId) {
      // A manager who is also a principal of this room already got the principal's view.
      io.to(channels.agencyManagers(room.agencyId))
        .except([channels.user(room.clientId), channels.user(room.freelancerId)])
        .emit('candidacy:updated', { candidacy: candidacyOf(summary, 'agency_manager') });
    }
  }

  function deliverNotification(userId: string, notification: NotificationView): void {
    io.to(channels.user(userId)).emit('notification', notification);
  }

  rooms.onAppended(broadcast);

  return {
    io,
    deliverNotification,
    async close(): Promise<void> {
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}

/**
 * Cross-site WebSocket hijacking guard: a browser's Origin must be the server's own or one of
 * CORS_ORIGINS. Clients that are not browsers send no Origin and authenticate by token alone.
 */
function originAllowed(req: IncomingMessage, allowed: string[]): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
