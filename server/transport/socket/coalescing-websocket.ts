import type { Socket as NetSocket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws';

type WriteCallback = (err?: Error | null) => void;

/**
 * Lets the frames a socket is sent in one turn leave in one write. Engine.IO hands a socket its
 * next packet only after the previous write has called back, so a command's sender got its own
 * event and then, a write later, its ack: two packets, two system calls, two wake-ups of the
 * client. Here a write is queued on a corked socket and calls back at once; the socket is
 * uncorked two ticks later, after Engine.IO has handed over what it held back.
 */
export function coalesceWrites(socket: NetSocket): void {
  const write = socket.write.bind(socket);
  let corked = false;
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
    const queued = typeof encoding === 'string' ? write(chunk, encoding) : write(chunk);
    // A failed write still surfaces: the socket emits 'error' and WebSocket closes it.
    if (done) process.nextTick(done, null);
    return queued;
  };
  socket.write = coalescing as NetSocket['write'];
}

class CoalescingWebSocket extends WebSocket {
  /** ws calls this once the upgrade is done, with the connection's socket. */
  setSocket(socket: Duplex, head: Buffer, options: object): void {
    // @ts-expect-error ws's types leave out setSocket, which its server calls on every WebSocket
    super.setSocket(socket, head, options);
    coalesceWrites(socket as NetSocket);
  }
}

/** The WebSocket server Engine.IO is given (its `wsEngine` option): ws, with writes coalesced. */
export class CoalescingWebSocketServer extends WebSocketServer {
  constructor(options: ServerOptions) {
    super({ ...options, WebSocket: CoalescingWebSocket });
  }
}
