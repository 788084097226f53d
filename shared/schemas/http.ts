import { z } from 'zod';
import {
  IdSchema,
  LIMITS,
  PhaseSchema,
  RoleSchema,
  SeqPositionSchema,
  SideSchema,
  TimestampSchema,
  VersionSchema,
  text,
  uniqueBy,
} from './common.js';
import { RoomEventSchema } from './events.js';
import { RoomViewSchema } from './room.js';

// ---- Request bodies and queries ----

/** `POST /api/rooms`: the caller becomes the room's client. */
export const CreateRoomBodySchema = z.strictObject({
  title: text(LIMITS.title),
  freelancerId: IdSchema,
  jobId: IdSchema.optional(),
  interviewerIds: z
    .array(IdSchema)
    .max(LIMITS.userIds)
    .superRefine(uniqueBy((id) => id))
    .optional(),
});
export type CreateRoomBody = z.infer<typeof CreateRoomBodySchema>;

/** A non-negative integer from a query string. */
const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, 'must be a non-negative integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const EVENTS_PAGE_MAX = 500;
export const EVENTS_PAGE_DEFAULT = 500;

/** `GET /api/rooms/:id/events?after=N&limit=M` */
export const EventsQuerySchema = z.strictObject({
  after: queryInt(0, Number.MAX_SAFE_INTEGER).default(0),
  limit: queryInt(1, EVENTS_PAGE_MAX).default(EVENTS_PAGE_DEFAULT),
});
export type EventsQuery = z.infer<typeof EventsQuerySchema>;

/** `:id` path parameters. */
export const IdParamsSchema = z.strictObject({ id: IdSchema });

/** `POST /api/dev/token` (development only). */
export const DevTokenBodySchema = z.strictObject({ userId: IdSchema });

// ---- Responses ----

export const RoomListItemSchema = z.object({
  id: IdSchema,
  title: z.string(),
  phase: PhaseSchema,
  seq: SeqPositionSchema,
  unread: z.number().int().min(0),
  lastActivityAt: TimestampSchema,
  myRole: RoleSchema,
});
export type RoomListItem = z.infer<typeof RoomListItemSchema>;

/** A room seen as a candidacy (freelancer, client per job, agency manager's whole team). */
export const CandidacySchema = z.object({
  roomId: IdSchema,
  title: z.string(),
  jobId: IdSchema.nullable(),
  phase: PhaseSchema,
  clientId: IdSchema,
  freelancerId: IdSchema,
  agencyId: IdSchema.nullable(),
  myRole: RoleSchema,
  /** The open proposal, if any: an offer (phase `offer`) or an amendment. */
  openProposal: z.object({ version: VersionSchema, authorSide: SideSchema }).nullable(),
  seq: SeqPositionSchema,
  lastActivityAt: TimestampSchema,
});
export type Candidacy = z.infer<typeof CandidacySchema>;

export const NotificationSchema = z.object({
  id: z.string(),
  /** The event type that caused it, or `offer` for an offer made to a freelancer. */
  kind: z.string(),
  roomId: IdSchema,
  text: z.string(),
  at: TimestampSchema,
  read: z.boolean().optional(),
});
export type Notification = z.infer<typeof NotificationSchema>;

export const FileInfoSchema = z.object({
  id: IdSchema,
  name: z.string(),
  size: z.number().int().min(0),
  contentType: z.string(),
  sha256: z.string(),
});
export type FileInfo = z.infer<typeof FileInfoSchema>;

export const HealthResponseSchema = z.object({ ok: z.literal(true) });
export const RoomResponseSchema = z.object({ ok: z.literal(true), room: RoomViewSchema });
export const RoomsListResponseSchema = z.object({ ok: z.literal(true), rooms: z.array(RoomListItemSchema) });
export const EventsResponseSchema = z.object({
  ok: z.literal(true),
  events: z.array(RoomEventSchema),
  seq: SeqPositionSchema,
});
export const FileUploadResponseSchema = z.object({
  ok: z.literal(true),
  file: FileInfoSchema,
  event: RoomEventSchema,
});
export const CandidaciesResponseSchema = z.object({
  ok: z.literal(true),
  candidacies: z.array(CandidacySchema),
});
export const NotificationsResponseSchema = z.object({
  ok: z.literal(true),
  notifications: z.array(NotificationSchema),
});
export const DevTokenResponseSchema = z.object({
  token: z.string(),
  user: z.object({
    id: IdSchema,
    name: z.string(),
    agency: z.object({ id: IdSchema, role: z.enum(['manager', 'member']) }).optional(),
  }),
});

export type RoomResponse = z.infer<typeof RoomResponseSchema>;
export type RoomsListResponse = z.infer<typeof RoomsListResponseSchema>;
export type EventsResponse = z.infer<typeof EventsResponseSchema>;
export type FileUploadResponse = z.infer<typeof FileUploadResponseSchema>;
export type CandidaciesResponse = z.infer<typeof CandidaciesResponseSchema>;
export type NotificationsResponse = z.infer<typeof NotificationsResponseSchema>;
export type DevTokenResponse = z.infer<typeof DevTokenResponseSchema>;
