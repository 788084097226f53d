/** What the bad-input suites assert of every refusal: the error shape, and that nothing changed. */
import { expect } from 'vitest';
import { ERROR_STATUS, type ErrorCode, type ErrorResponse } from '../../shared/schemas/errors.js';
import { request, type Reply } from '../support/http.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  command,
  createRoom,
  expectError,
  getRoom,
  seededTokens,
  type EventsReply,
  type RoomsReply,
  type Tokens,
} from './helpers.js';

/** A room on a server, and the seeded users' tokens there. */
export interface Watched {
  url: string;
  tokens: Tokens;
  roomId: string;
}

/** The title of the watched room: no refusal may reveal it. */
export const WATCHED_TITLE = 'Bad input target';

/** A server of its own with one room, alice's with bob as freelancer, and a message in it. */
export async function startWatched(env: Record<string, string>): Promise<Watched & { server: TestServer }> {
  const server = await startTestServer(env);
  const tokens = await seededTokens(server.url);
  const roomId = (await createRoom(server.url, tokens.alice, { title: WATCHED_TITLE, freelancerId: 'bob' }))
    .id;
  await command(server.url, tokens.bob, roomId, { type: 'message.post', text: 'hello' });
  return { server, url: server.url, tokens, roomId };
}

interface Observed {
  seq: number;
  events: number;
  aliceRooms: Array<{ id: string; seq: number }>;
  bobRooms: Array<{ id: string; seq: number }>;
}

/** What a user would notice changing: the room's seq and history, and the room lists. */
export async function observe({ url, tokens, roomId }: Watched): Promise<Observed> {
  const events = await request<EventsReply>(url, 'GET', `/api/rooms/${roomId}/events`, {
    token: tokens.alice,
  });
  const list = async (token: string) =>
    (await request<RoomsReply>(url, 'GET', '/api/rooms', { token })).body.rooms.map((r) => ({
      id: r.id,
      seq: r.seq,
    }));
  return {
    seq: (await getRoom(url, tokens.alice, roomId)).seq,
    events: events.body.events.length,
    aliceRooms: await list(tokens.alice),
    bobRooms: await list(tokens.bob),
  };
}

/** Sends a bad request; asserts the code, the error shape, and that nothing changed. */
export async function refusedIn(
  watched: Watched,
  code: ErrorCode,
  send: () => Promise<Reply<unknown>>,
): Promise<ErrorResponse> {
  const before = await observe(watched);
  const reply = await send();
  const body = expectError(reply, code, ERROR_STATUS[code]);
  expect(Object.keys(body)).toEqual(['ok', 'error']);
  if (code === 'INVALID' && body.error.details !== undefined)
    expect(Array.isArray(body.error.details)).toBe(true);
  expect(await observe(watched)).toEqual(before);
  return body;
}
