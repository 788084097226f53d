import type { Socket } from 'socket.io';
import { ApiError } from '../../application/errors.js';

/** Catch-ups one connection may have waiting for their turn; more are refused. */
const MAX_WAITING_CATCH_UPS = 64;
/** How often a waiting catch-up looks whether the client has taken the replies before it. */
const SENT_POLL_MS = 50;

/**
 * One connection's catch-ups (`room:join`, `room:sync`), one at a time, each once the client has
 * taken what was sent before it. A catch-up's reply can be large: a client that asks without
 * reading would otherwise have the server hold every reply.
 */
export class CatchUpTurns {
  private last: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(private readonly socket: Pick<Socket, 'conn' | 'connected'>) {}

  async run<T>(catchUp: () => Promise<T>): Promise<T> {
    if (this.waiting >= MAX_WAITING_CATCH_UPS) {
      throw new ApiError('RATE_LIMITED', 'Read the catch-ups already sent before asking for more');
    }
    this.waiting++;
    const turn = this.last.then(async () => {
      await this.sentToClient();
      return catchUp();
    });
    this.last = turn.catch(() => undefined);
    try {
      return await turn;
    } finally {
      this.waiting--;
    }
  }

  /**
   * Resolves once the connection has handed everything sent to it to the network (Engine.IO holds
   * packets back while the client has not taken enough of the earlier ones), or has closed.
   */
  private async sentToClient(): Promise<void> {
    // A turn first, so the reply to the catch-up before this one is counted.
    await new Promise((resolve) => setImmediate(resolve));
    while (!this.socket.conn.transport.writable && this.socket.connected) {
      await new Promise((resolve) => setTimeout(resolve, SENT_POLL_MS));
    }
  }
}
