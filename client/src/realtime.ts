import { io, type Socket } from 'socket.io-client';
import type { Command } from '../../shared/domain/index.js';
import type {
  Candidacy,
  ClientToServerEvents,
  ErrorResponse,
  Notification,
  RoomSyncAck,
  ServerToClientEvents,
} from '../../shared/schemas/index.js';
import { uuid } from './format.js';
import { RoomModel } from './room-model.js';
import type { Session } from './session.js';

export type ConnectionStatus = 'connecting' | 'online' | 'offline';

/** A command waiting for the server's ack; kept in localStorage so a reload keeps it. */
export interface Queued {
  clientId: string;
  roomId: string;
  command: Command;
  at: string;
}

export type Signal =
  | { kind: 'status' }
  | { kind: 'outbox' }
  | { kind: 'notification'; notification: Notification }
  | { kind: 'candidacy'; candidacy: Candidacy }
  | { kind: 'activity'; roomId: string }
  | { kind: 'error'; message: string };

type AppSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const ACK_TIMEOUT_MS = 10_000;
/** How soon a connection, join or gap fill refused RATE_LIMITED is asked again (the server's budgets count per 10 s). */
const RATE_LIMITED_RETRY_MS = 2_000;
/** Codes after which retrying the same command cannot succeed: it is dropped and the user told. */
const FINAL_CODES = new Set([
  'INVALID',
  'CONFLICT',
  'FORBIDDEN',
  'NOT_FOUND',
  'TOO_LARGE',
  'UNAUTHENTICATED',
]);

function isError(value: unknown): value is ErrorResponse {
  return typeof value === 'object' && value !== null && (value as { ok?: unknown }).ok === false;
}

/**
 * The one Socket.IO connection of a signed-in browser: connection state, the rooms it follows,
 * and the outbox — every command is queued first (with its clientId), then sent; a command made
 * offline waits, survives a reload and is sent once when the connection is back.
 */
export class Realtime {
  status: ConnectionStatus = 'connecting';
  readonly rooms = new Map<string, RoomModel>();
  private readonly socket: AppSocket;
  private outbox: Queued[];
  private flushing = false;
  private closed = false;
  private readonly listeners = new Set<(signal: Signal) => void>();
  private readonly outboxKey: string;

  constructor(
    private readonly session: Session,
    private readonly onUnauthenticated: () => void,
  ) {
    this.outboxKey = `workroom.outbox.${session.user.id}`;
    this.outbox = this.readOutbox();
    this.socket = io({
      auth: { token: session.token },
      transports: ['websocket', 'polling'],
      autoConnect: false,
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
    });
    this.wire();
    window.addEventListener('online', this.goOnline);
    window.addEventListener('offline', this.goOffline);
    window.addEventListener('storage', this.onStorage);
    window.addEventListener('pagehide', this.persistRooms);
    if (navigator.onLine) this.socket.connect();
    else this.setStatus('offline');
  }

  get userId(): string {
    return this.session.user.id;
  }

  close(): void {
    this.closed = true;
    window.removeEventListener('online', this.goOnline);
    window.removeEventListener('offline', this.goOffline);
    window.removeEventListener('storage', this.onStorage);
    window.removeEventListener('pagehide', this.persistRooms);
    this.persistRooms();
    this.socket.disconnect();
    this.listeners.clear();
  }

  on(listener: (signal: Signal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(signal: Signal): void {
    for (const l of this.listeners) l(signal);
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.emit({ kind: 'status' });
  }

  private readonly goOnline = () => {
    if (!this.socket.connected) {
      this.setStatus('connecting');
      this.socket.connect();
    }
  };

  private readonly goOffline = () => {
    // The browser knows the network is gone: stop waiting for pings to time out.
    this.socket.disconnect();
    this.markDisconnected();
    this.setStatus('offline');
  };

  /** The page is going away (reload, navigation, closed tab): save every room now, not in 250 ms. */
  private readonly persistRooms = () => {
    for (const model of this.rooms.values()) model.persist();
  };

  /** Another tab changed the outbox. */
  private readonly onStorage = (e: StorageEvent) => {
    if (e.key === this.outboxKey) {
      this.outbox = this.readOutbox();
      this.emit({ kind: 'outbox' });
    }
  };

  private markDisconnected(): void {
    for (const model of this.rooms.values()) {
      model.joined = false;
      model.online = [];
      model.typing.clear();
      model.changed();
    }
  }

  private wire(): void {
    const s = this.socket;
    s.on('connect', () => {
      this.setStatus('online');
      void this.resume();
    });
    s.on('disconnect', () => {
      this.markDisconnected();
      this.setStatus(navigator.onLine ? 'connecting' : 'offline');
    });
    s.on('connect_error', (err) => {
      if (err.message === 'UNAUTHENTICATED') {
        this.onUnauthenticated();
        return;
      }
      // Refused by the server (this user has too many connections open): Socket.IO does not try
      // again after a refusal, so ask again shortly, as long as this page still wants a connection.
      if (err.message === 'RATE_LIMITED') {
        setTimeout(() => {
          if (!this.closed && !s.connected && navigator.onLine) s.connect();
        }, RATE_LIMITED_RETRY_MS);
      }
      this.setStatus(navigator.onLine ? 'connecting' : 'offline');
    });
    s.on('room:event', ({ roomId, event }) => {
      this.rooms.get(roomId)?.ingest([event]);
      this.emit({ kind: 'activity', roomId });
    });
    s.on('room:read', ({ roomId, userId, seq }) => {
      if (userId !== this.userId) this.rooms.get(roomId)?.setRead(userId, seq);
    });
    s.on('room:typing', ({ roomId, userId, typing }) => {
      if (userId !== this.userId) this.rooms.get(roomId)?.setTyping(userId, typing);
    });
    s.on('room:presence', ({ roomId, online }) => {
      const model = this.rooms.get(roomId);
      if (model) {
        model.online = online;
        model.changed();
      }
    });
    s.on('notification', (notification) => this.emit({ kind: 'notification', notification }));
    s.on('candidacy:updated', ({ candidacy }) => this.emit({ kind: 'candidacy', candidacy }));
  }

  /** After (re)connecting: catch every followed room up by seq, then send what was queued. */
  private async resume(): Promise<void> {
    await Promise.all([...this.rooms.values()].map((m) => this.join(m)));
    await this.flush();
  }

  /** Follows a room: its model (restored from the cache if any), joined when connected. */
  follow(roomId: string): RoomModel {
    let model = this.rooms.get(roomId);
    if (!model) {
      model = new RoomModel(roomId, `workroom.room.v3.${this.userId}.${roomId}`, this);
      this.rooms.set(roomId, model);
      if (this.socket.connected) void this.join(model);
    }
    return model;
  }

  unfollow(roomId: string): void {
    const model = this.rooms.get(roomId);
    if (!model) return;
    model.persist();
    this.rooms.delete(roomId);
    if (this.socket.connected)
      void this.socket
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck('room:leave', { roomId })
        .catch(() => undefined);
  }

  private async join(model: RoomModel): Promise<void> {
    const payload =
      model.state && model.applied > 0
        ? { roomId: model.roomId, since: model.applied }
        : { roomId: model.roomId };
    try {
      const ack = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('room:join', payload);
      if (isError(ack) && ack.error.code === 'RATE_LIMITED') {
        // The user's history budget is spent for now: ask again shortly, while still following.
        setTimeout(() => {
          if (this.rooms.get(model.roomId) === model && this.socket.connected) void this.join(model);
        }, RATE_LIMITED_RETRY_MS);
        return;
      }
      if (isError(ack)) {
        model.error =
          ack.error.code === 'FORBIDDEN' || ack.error.code === 'NOT_FOUND'
            ? 'This room does not exist or is not yours.'
            : ack.error.message;
        model.changed();
        return;
      }
      model.joinedWith(ack);
      this.markRead(model);
    } catch {
      // no answer: the next connect joins again
    }
  }

  async sync(roomId: string, since: number): Promise<RoomSyncAck | null> {
    // Refused RATE_LIMITED (the user's history budget is spent for now): asked again shortly,
    // while still followed, so a quiet room does not keep its gap until its next event.
    while (this.socket.connected && this.rooms.has(roomId)) {
      try {
        const ack = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('room:sync', { roomId, since });
        if (!isError(ack)) return ack;
        if (ack.error.code !== 'RATE_LIMITED') return null;
      } catch {
        return null;
      }
      await new Promise((resolve) => setTimeout(resolve, RATE_LIMITED_RETRY_MS));
    }
    return null;
  }

  private readTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readSent = new Map<string, number>();

  /** Tells the server (and the others) how far this user has read, once things settle. */
  markRead(model: RoomModel): void {
    if (!model.joined || document.visibilityState === 'hidden') return;
    clearTimeout(this.readTimers.get(model.roomId));
    this.readTimers.set(
      model.roomId,
      setTimeout(() => {
        const seq = model.applied;
        if (!this.socket.connected || seq <= (this.readSent.get(model.roomId) ?? 0)) return;
        this.readSent.set(model.roomId, seq);
        void this.socket
          .timeout(ACK_TIMEOUT_MS)
          .emitWithAck('room:read', { roomId: model.roomId, seq })
          .catch(() => undefined);
      }, 300),
    );
  }

  typing(roomId: string, typing: boolean): void {
    if (!this.socket.connected || !this.rooms.get(roomId)?.joined) return;
    void this.socket
      .timeout(ACK_TIMEOUT_MS)
      .emitWithAck('room:typing', { roomId, typing })
      .catch(() => undefined);
  }

  // ---- the outbox ----

  queued(roomId?: string): Queued[] {
    return roomId === undefined ? [...this.outbox] : this.outbox.filter((q) => q.roomId === roomId);
  }

  private readOutbox(): Queued[] {
    try {
      const raw = localStorage.getItem(this.outboxKey);
      const list: unknown = raw ? JSON.parse(raw) : [];
      return Array.isArray(list) ? (list as Queued[]) : [];
    } catch {
      return [];
    }
  }

  private writeOutbox(): void {
    localStorage.setItem(this.outboxKey, JSON.stringify(this.outbox));
    this.emit({ kind: 'outbox' });
  }

  /** Queues a command (durably) and sends it as soon as the connection allows. */
  send(roomId: string, command: Command): Queued {
    const item: Queued = { clientId: uuid(), roomId, command, at: new Date().toISOString() };
    this.outbox.push(item);
    this.writeOutbox();
    void this.flush();
    return item;
  }

  /** Sends queued commands one at a time, in order; each leaves the queue only once acked. */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.socket.connected) {
        const item = this.outbox[0];
        if (!item) break;
        let ack;
        try {
          ack = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('room:command', {
            roomId: item.roomId,
            clientId: item.clientId,
            command: item.command,
          });
        } catch {
          // No ack (disconnected or slow): keep it and try again; the same clientId makes a resend harmless.
          setTimeout(() => void this.flush(), 3000);
          break;
        }
        if (isError(ack)) {
          if (!FINAL_CODES.has(ack.error.code)) {
            await new Promise((r) => setTimeout(r, 2000));
            continue;
          }
          this.emit({ kind: 'error', message: `Not done: ${ack.error.message}` });
        } else {
          this.rooms.get(item.roomId)?.ingest(ack.events);
        }
        this.outbox = this.outbox.filter((q) => q.clientId !== item.clientId);
        this.writeOutbox();
      }
    } finally {
      this.flushing = false;
    }
  }
}
