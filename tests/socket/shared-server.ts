import { afterAll, beforeAll } from 'vitest';
import type { RoomJoinAck } from '../../shared/schemas/socket.js';
import { createRoom, getRoom, seededTokens } from '../http/helpers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { connect, type Ack, type WorkroomSocket } from '../support/socket-client.js';

/**
 * One server for a test file's socket tests (started before them, stopped after with every socket
 * they opened), the seeded users' tokens there, and the steps most of those tests take.
 */
export function sharedServer() {
  let server: TestServer | undefined;
  const tokens: Record<string, string> = {};
  const sockets: WorkroomSocket[] = [];

  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_COMMANDS: '0' });
    // Every seeded user is seen once there, so agencies are known when rooms are created.
    Object.assign(tokens, await seededTokens(server.url));
  });

  afterAll(async () => {
    for (const s of sockets) s.close();
    await server?.stop();
  });

  const url = () => {
    if (!server) throw new Error('the shared server is not started yet');
    return server.url;
  };

  return {
    tokens,
    get url() {
      return url();
    },

    /** A socket of `user`'s, closed after the file's tests. */
    async as(user: string): Promise<WorkroomSocket> {
      const socket = await connect(url(), tokens[user]);
      sockets.push(socket);
      return socket;
    },

    /** A new room of alice's with bob as the freelancer. */
    async createRoom(title = 'Logo design'): Promise<string> {
      return (await createRoom(url(), tokens.alice!, { title, freelancerId: 'bob' })).id;
    },

    async join(socket: WorkroomSocket, roomId: string, since?: number) {
      return (await socket.emitWithAck(
        'room:join',
        since === undefined ? { roomId } : { roomId, since },
      )) as Ack<RoomJoinAck>;
    },

    async seqOf(roomId: string): Promise<number> {
      return (await getRoom(url(), tokens.alice!, roomId)).seq;
    },
  };
}
