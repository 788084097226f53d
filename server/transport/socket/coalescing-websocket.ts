import type { Socket as NetSocket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws';

type WriteCallback = (err?: Error | null) => void;

/**
 * Bytes a connection may have waiting for the client to take before its writer is held back. A
 * client that stops reading then leaves what is sent to it in Engine.IO's queue (broadcasts there
 * share one encoding with every other recipient) instead of each copy piling up here, and lets a
 * catch-up wait until it has taken the previous one (see catch-up-turns.ts).
 */
export const SEND_BACKLOG_BYTES = 1024 * 1024;

/**
 * Lets the frames a socket is sent in one turn leave in one write. Engine.IO hands a socket its
 * next packet only after the previous write has called back, so a command's sender got its own
 * event and then, a write later, its ack: two packets, two system calls, two wake-ups of the
 * client. Here a write is queued on a corked socket and calls back at once; the socket is
 * uncorked two ticks later, after Engine.IO has handed over what it held back. Once more than
 * `backlogLimit` bytes wait for the client, a write calls back only when the client has taken it;
 * `onHold` hears when such writes start and stop waiting.
 */
export function coalesceWrites(
  socket: NetSocket,
  backlogLimit = SEND_BACKLOG_BYTES,
  onHold: (holding: boolean) => void = () => {},
): void {
  const write = socket.write.bind(socket);
  let corked = false;
  let held = 0;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  const coalescing = (
    chunk: Uint8Array | string,
    encoding?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ) => {
    const done = typeof encoding === 'function' ? encoding : callback;
    if (!corked) {
      corked = true;
      socket.cork();
      // Scheduled before this write's callback, so the uncork comes after whatever it releases.
      process.nextTick(() => process.nextTick(uncork));
    }
    const textEncoding = typeof encoding === 'string' ? encoding : undefined;
    // Past the limit the callback waits for the client, and Engine.IO holds back what follows.
    if (done && socket.writableLength + chunk.length > backlogLimit) {
      if (held++ === 0) onHold(true);
      return write(chunk, textEncoding, (err?: Error | null) => {
        if (--held === 0) onHold(false);
        done(err);
      });
    }
    const queued = write(chunk, textEncoding);
    // A failed write still surfaces: the socket emits 'error' and WebSocket closes it.
    if (done) process.nextTick(done, null);
    return queued;
  };
  socket.write = coalescing as NetSocket['write'];
}

class CoalescingWebSocket extends WebSocket {
  private holding = false;
  private pausing = false;

  /** ws calls this once the upgrade is done, with the connection's socket. */
  setSocket(socket: Duplex, head: Buffer, options: object): void {
    // @ts-expect-error ws's types leave out setSocket, which its server calls on every WebSocket
    super.setSocket(socket, head, options);
    coalesceWrites(socket as NetSocket, SEND_BACKLOG_BYTES, (holding) => {
      this.holding = holding;
      this.readWhenFree();
    });
  }

  /** Reads nothing from the client for `ms` (whether or not a hold starts or ends meanwhile). */
  pauseReading(ms: number): void {
    if (this.pausing) return;
    this.pausing = true;
    this.readWhenFree();
    setTimeout(() => {
      this.pausing = false;
      this.readWhenFree();
    }, ms).unref();
  }

  /** A client that is not taking what it is sent would not read the closing frame either. */
  override close(code?: number, reason?: string | Buffer): void {
    if (this.holding) this.terminate();
    else super.close(code, reason);
  }

  // Nothing more is read from a client that is not taking what it is sent, or is pausing: its
  // requests wait on its side of the connection, not as replies queued here. (ws's own pause,
  // so that its parser does not resume reading behind it.)
  private readWhenFree(): void {
    if (this.holding || this.pausing) this.pause();
    else this.resume();
  }
}

/**
 * Reads nothing from `ws` for `ms`, if it is one of these WebSockets; answers whether it was
 * (a long-polling client has none).
 */
export function pauseReading(ws: unknown, ms: number): boolean {
  if (!(ws instanceof CoalescingWebSocket)) return false;
  ws.pauseReading(ms);
  return true;
}

/** The WebSocket server Engine.IO is given (its `wsEngine` option): ws, with writes coalesced. */
export class CoalescingWebSocketServer extends WebSocketServer {
  constructor(options: ServerOptions) {
    super({ ...options, WebSocket: CoalescingWebSocket });
  }
}
