/** Shared helpers of the HTTP suites: typed replies, commands over HTTP, paged history. */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { HiddenEvent } from '../../server/application/evidence.js';
import type { Command, RoomState, StoredEvent } from '../../shared/domain/index.js';
import type { ErrorCode, ErrorResponse } from '../../shared/schemas/errors.js';
import type { Candidacy, Notification, RoomListItem } from '../../shared/schemas/http.js';
import type { FixedTerms } from '../../shared/schemas/terms.js';
import { devToken, request, type Reply } from '../support/http.js';

export const SEEDED = ['alice', 'dave', 'bob', 'carol', 'erin', 'mallory'] as const;
export type SeededUser = (typeof SEEDED)[number];
export type Tokens = Record<SeededUser, string>;

export interface RoomReply {
  ok: true;
  room: RoomState;
}
export interface RoomsReply {
  ok: true;
  rooms: RoomListItem[];
}
export interface EventsReply {
  ok: true;
  events: StoredEvent[];
  seq: number;
}
export interface CommandReply {
  ok: true;
  seq: number;
  events: StoredEvent[];
}
export interface CandidaciesReply {
  ok: true;
  candidacies: Candidacy[];
}
export interface NotificationsReply {
  ok: true;
  notifications: Notification[];
}
export interface ExportReply {
  ok: true;
  format: string;
  viewer: { id: string; side: string; role: string };
  room: RoomState;
  events: Array<StoredEvent | HiddenEvent>;
  verification: { chain: { ok: boolean; checked?: number }; algorithm: string; howTo: string };
}

/** Tokens of the six seeded users, and each user recorded once (so agencies are known). */
export async function seededTokens(base: string): Promise<Tokens> {
  const entries = await Promise.all(SEEDED.map(async (id) => [id, await devToken(base, id)] as const));
  const tokens = Object.fromEntries(entries) as Tokens;
  for (const id of SEEDED) await request(base, 'GET', '/api/rooms', { token: tokens[id] });
  return tokens;
}

/** Asserts the protocol's error shape with this code and the matching HTTP status. */
export function expectError(reply: Reply<unknown>, code: ErrorCode, status: number): ErrorResponse {
  const body = reply.body as ErrorResponse;
  expect({ status: reply.status, ok: body?.ok, code: body?.error?.code }).toEqual({
    status,
    ok: false,
    code,
  });
  expect(typeof body.error.message).toBe('string');
  return body;
}

export async function createRoom(
  base: string,
  token: string,
  body: { title: string; freelancerId: string; jobId?: string; interviewerIds?: string[] },
): Promise<RoomState> {
  const reply = await request<RoomReply>(base, 'POST', '/api/rooms', { token, body });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.room;
}

/** Sends a command over HTTP; returns the raw reply (status 201, 200 for a repeat, or an error). */
export function sendCommand(
  base: string,
  token: string,
  roomId: string,
  command: Command | Record<string, unknown>,
  clientId: string = randomUUID(),
): Promise<Reply<CommandReply | ErrorResponse>> {
  return request<CommandReply | ErrorResponse>(base, 'POST', `/api/rooms/${roomId}/commands`, {
    token,
    body: { clientId, command },
  });
}

/** Sends a command that must succeed; returns its ack. */
export async function command(
  base: string,
  token: string,
  roomId: string,
  cmd: Command,
): Promise<CommandReply> {
  const reply = await sendCommand(base, token, roomId, cmd);
  expect(reply.status, `${cmd.type}: ${JSON.stringify(reply.body)}`).toBe(201);
  return reply.body as CommandReply;
}

export async function getRoom(base: string, token: string, roomId: string): Promise<RoomState> {
  const reply = await request<RoomReply>(base, 'GET', `/api/rooms/${roomId}`, { token });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.room;
}

/** The whole visible history, read in pages of `limit`. */
export async function allEvents(
  base: string,
  token: string,
  roomId: string,
  limit = 500,
): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  let after = 0;
  for (;;) {
    const reply = await request<EventsReply>(
      base,
      'GET',
      `/api/rooms/${roomId}/events?after=${after}&limit=${limit}`,
      { token },
    );
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    out.push(...reply.body.events);
    if (reply.body.events.length < limit) return out;
    after = reply.body.events[reply.body.events.length - 1]!.seq;
  }
}

export const FIXED_TERMS: FixedTerms = {
  kind: 'fixed',
  currency: 'EUR',
  milestones: [
    { id: 'm1', title: 'Sketches', amount: 50_000 },
    { id: 'm2', title: 'Final logo', amount: 120_000 },
  ],
};

/** Drives a room from interview to an active contract: alice offers, `accepter` accepts. */
export async function hire(
  base: string,
  tokens: Tokens,
  roomId: string,
  accepter: 'bob' | 'carol' | 'erin' = 'bob',
): Promise<number> {
  const offer = await command(base, tokens.alice, roomId, { type: 'terms.propose', terms: FIXED_TERMS });
  const version = (offer.events[0]!.data as { version: number }).version;
  await command(base, tokens[accepter], roomId, { type: 'terms.accept', version });
  return version;
}

/** Contiguous seq 1..n, no duplicates. */
export function expectContiguous(events: ReadonlyArray<{ seq: number }>): void {
  const seqs = events.map((e) => e.seq);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
}

export function countByType(events: ReadonlyArray<{ type: string }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of events) counts[e.type] = (counts[e.type] ?? 0) + 1;
  return counts;
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
