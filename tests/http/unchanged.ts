/** What the bad-input suites assert of every refusal: the error shape, and that nothing changed. */
import { expect } from 'vitest';
import { ERROR_STATUS, type ErrorCode, type ErrorResponse } from '../../shared/schemas/errors.js';
import { request, type Reply } from '../support/http.js';
import { expectError, type EventsReply, type RoomReply, type RoomsReply, type Tokens } from './helpers.js';

/** A room on a server, and the seeded users' tokens there. */
export interface Watched {
  url: string;
  tokens: Tokens;
  roomId: string;
}

interface Observed {
  seq: number;
  events: number;
  aliceRooms: Array<{ id: string; seq: number }>;
  bobRooms: Array<{ id: string; seq: number }>;
}

/** What a user would notice changing: the room's seq and history, and the room lists. */
export async function observe({ url, tokens, roomId }: Watched): Promise<Observed> {
  const room = await request<RoomReply>(url, 'GET', `/api/rooms/${roomId}`, { token: tokens.alice });
  const events = await request<EventsReply>(url, 'GET', `/api/rooms/${roomId}/events`, {
    token: tokens.alice,
  });
  const list = async (token: string) =>
    (await request<RoomsReply>(url, 'GET', '/api/rooms', { token })).body.rooms.map((r) => ({
      id: r.id,
      seq: r.seq,
    }));
  return {
    seq: room.body.room.seq,
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
