import { z } from 'zod';
import { IdSchema, SeqPositionSchema } from './common.js';
import { CommandSchema } from './commands.js';
import type { ErrorResponse } from './errors.js';
import { RoomEventSchema } from './events.js';
import { CandidacySchema, NotificationSchema } from './http.js';
import { RoomViewSchema } from './room.js';

// ---- Client → server payloads ----

/** A command's idempotency key: a UUID chosen by the sender. */
export const ClientIdSchema = z.uuid();

export const RoomJoinPayloadSchema = z.strictObject({
  roomId: IdSchema,
  since: SeqPositionSchema.optional(),
});
export const RoomLeavePayloadSchema = z.strictObject({ roomId: IdSchema });
export const RoomSyncPayloadSchema = z.strictObject({ roomId: IdSchema, since: SeqPositionSchema });
export const RoomCommandPayloadSchema = z.strictObject({
  roomId: IdSchema,
  /** A repeat of the same { roomId, clientId } returns the first result and appends nothing. */
  clientId: ClientIdSchema,
  command: CommandSchema,
});
export const RoomReadPayloadSchema = z.strictObject({ roomId: IdSchema, seq: SeqPositionSchema });
export const RoomTypingPayloadSchema = z.strictObject({ roomId: IdSchema, typing: z.boolean() });

export type RoomJoinPayload = z.infer<typeof RoomJoinPayloadSchema>;
export type RoomLeavePayload = z.infer<typeof RoomLeavePayloadSchema>;
export type RoomSyncPayload = z.infer<typeof RoomSyncPayloadSchema>;
export type RoomCommandPayload = z.infer<typeof RoomCommandPayloadSchema>;
export type RoomReadPayload = z.infer<typeof RoomReadPayloadSchema>;
export type RoomTypingPayload = z.infer<typeof RoomTypingPayloadSchema>;

// ---- Acks (success shapes; every ack may also be the error shape) ----

export const OkAckSchema = z.object({ ok: z.literal(true) });
export const RoomJoinAckSchema = z.object({
  ok: z.literal(true),
  room: RoomViewSchema,
  events: z.array(RoomEventSchema),
  seq: SeqPositionSchema,
});
export const RoomSyncAckSchema = z.object({
  ok: z.literal(true),
  events: z.array(RoomEventSchema),
  seq: SeqPositionSchema,
});
export const RoomCommandAckSchema = z.object({
  ok: z.literal(true),
  seq: SeqPositionSchema,
  /** The events the command appended (those this sender may see). */
  events: z.array(RoomEventSchema),
});

export type OkAck = z.infer<typeof OkAckSchema>;
export type RoomJoinAck = z.infer<typeof RoomJoinAckSchema>;
export type RoomSyncAck = z.infer<typeof RoomSyncAckSchema>;
export type RoomCommandAck = z.infer<typeof RoomCommandAckSchema>;

// ---- Server → client payloads ----

export const RoomEventPayloadSchema = z.object({ roomId: IdSchema, event: RoomEventSchema });
export const RoomReadBroadcastSchema = z.object({
  roomId: IdSchema,
  userId: IdSchema,
  seq: SeqPositionSchema,
});
export const RoomTypingBroadcastSchema = z.object({
  roomId: IdSchema,
  userId: IdSchema,
  typing: z.boolean(),
});
export const RoomPresencePayloadSchema = z.object({ roomId: IdSchema, online: z.array(IdSchema) });
export const NotificationPayloadSchema = NotificationSchema;
export const CandidacyUpdatedPayloadSchema = z.object({ candidacy: CandidacySchema });

export type RoomEventPayload = z.infer<typeof RoomEventPayloadSchema>;
export type RoomReadBroadcast = z.infer<typeof RoomReadBroadcastSchema>;
export type RoomTypingBroadcast = z.infer<typeof RoomTypingBroadcastSchema>;
export type RoomPresencePayload = z.infer<typeof RoomPresencePayloadSchema>;
export type CandidacyUpdatedPayload = z.infer<typeof CandidacyUpdatedPayloadSchema>;
export type NotificationPayload = z.infer<typeof NotificationPayloadSchema>;

/** An ack callback: the success shape or the protocol's error shape. */
export type Ack<T> = (response: T | ErrorResponse) => void;

/** Socket.IO events the browser emits (each with an ack). */
export interface ClientToServerEvents {
  'room:join': (payload: RoomJoinPayload, ack: Ack<RoomJoinAck>) => void;
  'room:leave': (payload: RoomLeavePayload, ack: Ack<OkAck>) => void;
  'room:sync': (payload: RoomSyncPayload, ack: Ack<RoomSyncAck>) => void;
  'room:command': (payload: RoomCommandPayload, ack: Ack<RoomCommandAck>) => void;
  'room:read': (payload: RoomReadPayload, ack: Ack<OkAck>) => void;
  'room:typing': (payload: RoomTypingPayload, ack: Ack<OkAck>) => void;
}

/** Socket.IO events the server emits. */
export interface ServerToClientEvents {
  'room:event': (payload: RoomEventPayload) => void;
  'room:read': (payload: RoomReadBroadcast) => void;
  'room:typing': (payload: RoomTypingBroadcast) => void;
  'room:presence': (payload: RoomPresencePayload) => void;
  notification: (payload: NotificationPayload) => void;
  'candidacy:updated': (payload: CandidacyUpdatedPayload) => void;
}

/** The payload schema of each client → server event, for the server's validation. */
export const ClientPayloadSchemas = {
  'room:join': RoomJoinPayloadSchema,
  'room:leave': RoomLeavePayloadSchema,
  'room:sync': RoomSyncPayloadSchema,
  'room:command': RoomCommandPayloadSchema,
  'room:read': RoomReadPayloadSchema,
  'room:typing': RoomTypingPayloadSchema,
} as const satisfies Record<keyof ClientToServerEvents, z.ZodType>;
