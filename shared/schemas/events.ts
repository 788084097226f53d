import { z } from 'zod';
import {
  ActorSchema,
  AmountSchema,
  AudienceSchema,
  CurrencySchema,
  DateLikeSchema,
  IdSchema,
  SeqSchema,
  SideSchema,
  TimestampSchema,
  VersionSchema,
} from './common.js';
import { PrivateFeedbackSchema, ProgressItemSchema, PublicFeedbackSchema } from './commands.js';
import { TermsSchema } from './terms.js';

/** A file as a milestone submission freezes it: its content hash at the time of submission. */
export const FrozenFileSchema = z.object({ id: IdSchema, name: z.string(), sha256: z.string() });
export type FrozenFile = z.infer<typeof FrozenFileSchema>;

/** The data of each event type. */
export const EventDataSchemas = {
  'room.created': z.object({
    roomId: IdSchema,
    title: z.string(),
    clientId: IdSchema,
    freelancerId: IdSchema,
    jobId: IdSchema.nullable(),
    interviewerIds: z.array(IdSchema),
    agencyId: IdSchema.nullable(),
  }),
  'room.agencyAssigned': z.object({ agencyId: IdSchema }),
  'members.added': z.object({ userIds: z.array(IdSchema) }),
  'file.shared': z.object({
    fileId: IdSchema,
    name: z.string(),
    size: z.number().int().min(0),
    contentType: z.string(),
    sha256: z.string(),
  }),
  'message.posted': z.object({
    text: z.string(),
    fileIds: z.array(IdSchema),
    replyTo: SeqSchema.nullable(),
  }),
  'message.edited': z.object({ seq: SeqSchema, text: z.string() }),
  'message.deleted': z.object({ seq: SeqSchema }),
  'terms.proposed': z.object({
    version: VersionSchema,
    terms: TermsSchema,
    /** The open proposal this one counters (it is marked `countered`), or null. */
    supersedes: VersionSchema.nullable(),
  }),
  'terms.accepted': z.object({ version: VersionSchema }),
  'terms.declined': z.object({ version: VersionSchema, reason: z.string().nullable() }),
  'terms.withdrawn': z.object({ version: VersionSchema }),
  /** The hire: the accepted version becomes the contract; phase `active`. */
  'contract.started': z.object({ version: VersionSchema }),
  'milestone.funded': z.object({ milestoneId: IdSchema, amount: AmountSchema, currency: CurrencySchema }),
  'milestone.submitted': z.object({
    milestoneId: IdSchema,
    note: z.string(),
    files: z.array(FrozenFileSchema),
  }),
  'milestone.changesRequested': z.object({ milestoneId: IdSchema, note: z.string() }),
  /** `auto: true` when the review window closed without an answer from the client side. */
  'milestone.released': z.object({ milestoneId: IdSchema, amount: AmountSchema, auto: z.boolean() }),
  'statusReport.submitted': z.object({
    periodStart: DateLikeSchema,
    periodEnd: DateLikeSchema,
    summary: z.string(),
    hours: z.number().min(0),
    progress: z.array(ProgressItemSchema),
    nextSteps: z.string().nullable(),
    blockers: z.string().nullable(),
  }),
  /**
   * `by`: the principal's side, or `system` (closed for inactivity, with reason `inactivity`).
   * `reason`: the principal's free text, or null.
   */
  'contract.ended': z.object({
    by: z.enum(['client', 'freelancer', 'system']),
    reason: z.string().nullable(),
  }),
  /** Audience: the author only. */
  'feedback.submitted': z.object({
    side: SideSchema,
    public: PublicFeedbackSchema,
    private: PrivateFeedbackSchema,
  }),
  /** Public parts only, both together; `auto: true` when the window closed. */
  'feedback.revealed': z.object({
    client: PublicFeedbackSchema.nullable(),
    freelancer: PublicFeedbackSchema.nullable(),
    auto: z.boolean(),
  }),
  /** Audience: the client side. `reminder` is 1 for the first configured threshold, 2 for the next … */
  'reminder.inactivity': z.object({
    reminder: z.number().int().min(1),
    thresholdSeconds: z.number().min(0),
    elapsedSeconds: z.number().min(0),
    lastActivityAt: TimestampSchema,
    closesAt: TimestampSchema,
  }),
  /** Audience: the freelancer side. `period` counts the periods due since the last report (or the start). */
  'reminder.statusReport': z.object({
    dueAt: TimestampSchema,
    period: z.number().int().min(1),
  }),
} as const;

export type EventType = keyof typeof EventDataSchemas;
export type EventData<T extends EventType> = z.infer<(typeof EventDataSchemas)[T]>;
export const EVENT_TYPES = Object.keys(EventDataSchemas) as EventType[];

/** What decide and tick produce: an event before the server stamps it with seq, time, actor and hashes. */
export type EventDraft = {
  [T in EventType]: { type: T; data: EventData<T>; audience: z.infer<typeof AudienceSchema> };
}[EventType];
export type EventDraftOf<T extends EventType> = Extract<EventDraft, { type: T }>;

/** The server's stamp on a draft. */
export interface EventStamp {
  seq: number;
  at: string;
  actor: z.infer<typeof ActorSchema>;
  hash: string;
  prevHash: string | null;
}

/** An event as stored in the log: what evolve consumes. */
export type StoredEvent = EventDraft & EventStamp;
export type StoredEventOf<T extends EventType> = Extract<EventDraft, { type: T }> & EventStamp;

function wire<T extends EventType>(type: T) {
  return z.object({
    seq: SeqSchema,
    type: z.literal(type),
    at: TimestampSchema,
    actor: ActorSchema,
    data: EventDataSchemas[type] as (typeof EventDataSchemas)[T],
    /** Present in stored events and exports; broadcasts may omit it. */
    audience: AudienceSchema.optional(),
    hash: z.string(),
    prevHash: z.string().nullable(),
  });
}

/** An event on the wire: `{ seq, type, at, actor, data, hash, prevHash }`. */
export const RoomEventSchema = z.discriminatedUnion('type', [
  wire('room.created'),
  wire('room.agencyAssigned'),
  wire('members.added'),
  wire('file.shared'),
  wire('message.posted'),
  wire('message.edited'),
  wire('message.deleted'),
  wire('terms.proposed'),
  wire('terms.accepted'),
  wire('terms.declined'),
  wire('terms.withdrawn'),
  wire('contract.started'),
  wire('milestone.funded'),
  wire('milestone.submitted'),
  wire('milestone.changesRequested'),
  wire('milestone.released'),
  wire('statusReport.submitted'),
  wire('contract.ended'),
  wire('feedback.submitted'),
  wire('feedback.revealed'),
  wire('reminder.inactivity'),
  wire('reminder.statusReport'),
]);
export type RoomEvent = z.infer<typeof RoomEventSchema>;

/** A stored event, validated (audience required): e.g. for reading an export back. */
export const StoredEventSchema = z.intersection(RoomEventSchema, z.object({ audience: AudienceSchema }));
