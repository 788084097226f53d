import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { Command } from '../../shared/schemas/commands.js';
import type { ErrorResponse } from '../../shared/schemas/errors.js';
import type { RoomEvent } from '../../shared/schemas/events.js';
import type {
  ClientToServerEvents,
  RoomCommandAck,
  RoomJoinAck,
  RoomSyncAck,
  ServerToClientEvents,
} from '../../shared/schemas/socket.js';

export type WorkroomSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Opens a websocket-only connection and waits for it (or for its connect_error). */
export function connect(
  url: string,
  token: string | undefined,
  extra: Record<string, unknown> = {},
): Promise<WorkroomSocket> {
  const socket: WorkroomSocket = io(url, {
    auth: token === undefined ? {} : { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...extra,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

export type Ack<T> = T | ErrorResponse;

export function command(socket: WorkroomSocket, roomId: string, cmd: Command, clientId = randomUUID()) {
  return socket.timeout(10_000).emitWithAck('room:command', { roomId, clientId, command: cmd }) as Promise<
    Ack<RoomCommandAck>
  >;
}

/** The ack's value when it is ok; throws with the error otherwise. */
export async function ok<T extends { ok: boolean }>(ack: Promise<T> | T): Promise<Extract<T, { ok: true }>> {
  const value = await ack;
  if (!value.ok) throw new Error(`expected ok, got ${JSON.stringify(value)}`);
  return value as Extract<T, { ok: true }>;
}

/** Collects every payload of one server event. */
export function collect<E extends keyof ServerToClientEvents>(socket: WorkroomSocket, event: E) {
  const seen: Array<Parameters<ServerToClientEvents[E]>[0]> = [];
  (socket as unknown as Socket).on(event as string, (payload: Parameters<ServerToClientEvents[E]>[0]) =>
    seen.push(payload),
  );
  return seen;
}

/** Polls until the predicate holds (or fails after the timeout). */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A member's view of one room as a resilient client keeps it: events applied once each in seq
 * order, gaps filled with room:sync, rejoin with `since` after any reconnect (to the same node or
 * another), and commands retried with their clientId until acknowledged.
 */
export class RoomMember {
  readonly events: RoomEvent[] = [];
  readonly acked = new Map<string, number>();
  private socket: WorkroomSocket | undefined;
  private syncing: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly token: string,
    readonly roomId: string,
  ) {}

  get lastSeq(): number {
    return this.events.at(-1)?.seq ?? 0;
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  /** Connects to `url` and joins with `since` = the last seq this member applied. */
  async attach(url: string): Promise<void> {
    this.socket?.close();
    const socket = await connect(url, this.token);
    this.socket = socket;
    socket.on('room:event', ({ roomId, event }) => {
      if (roomId === this.roomId) this.receive([event]);
    });
    const ack = (await socket
      .timeout(10_000)
      .emitWithAck('room:join', { roomId: this.roomId, since: this.lastSeq })) as Ack<RoomJoinAck>;
    if (!ack.ok) throw new Error(`${this.name} could not join: ${ack.error.code}`);
    this.receive(ack.events);
  }

  detach(): void {
    this.socket?.close();
    this.socket = undefined;
  }

  /**
   * Sends a command until it is acknowledged, across reconnects and outages, backing off like a
   * real client (the clientId makes it apply once however often it is sent).
   */
  async send(cmd: Command, clientId = randomUUID(), patienceMs = 60_000): Promise<number> {
    const deadline = Date.now() + patienceMs;
    for (let delay = 50; Date.now() < deadline; delay = Math.min(delay * 2, 1_000)) {
      const socket = this.socket;
      if (socket?.connected) {
        try {
          const ack = await command(socket, this.roomId, cmd, clientId);
          if (ack.ok) {
            this.acked.set(clientId, ack.seq);
            return ack.seq;
          }
          if (ack.error.code !== 'INTERNAL' && ack.error.code !== 'CONFLICT') throw new Error(ack.error.code);
        } catch (err) {
          if (err instanceof Error && /^[A-Z_]+$/.test(err.message)) throw err;
          // timed out or disconnected: retry with the same clientId
        }
      }
      await new Promise((r) => setTimeout(r, delay));
    }
    throw new Error(`${this.name}: command never acknowledged`);
  }

  private receive(events: RoomEvent[]): void {
    for (const event of events) {
      if (event.seq <= this.lastSeq) continue;
      if (event.seq !== this.lastSeq + 1) {
        void this.fillGap();
        return;
      }
      this.events.push(event);
    }
  }

  private fillGap(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        const socket = this.socket;
        if (!socket?.connected) return;
        const ack = (await socket
          .timeout(10_000)
          .emitWithAck('room:sync', { roomId: this.roomId, since: this.lastSeq })) as Ack<RoomSyncAck>;
        if (ack.ok) this.receive(ack.events);
      } catch {
        // the next event or reconnect tries again
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  /** Asks for anything missed (as a client does on a timer or when it regains focus). */
  async resync(): Promise<void> {
    await this.fillGap();
  }
}
