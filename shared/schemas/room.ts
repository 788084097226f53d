import { z } from 'zod';
import {
  AmountSchema,
  CurrencySchema,
  DateLikeSchema,
  IdSchema,
  PartyActorSchema,
  PhaseSchema,
  SideSchema,
  TimestampSchema,
  VersionSchema,
} from './common.js';
import { PrivateFeedbackSchema, ProgressItemSchema, PublicFeedbackSchema } from './commands.js';
import { FrozenFileSchema } from './events.js';
import { TermsSchema } from './terms.js';

export const ProposalStatusSchema = z.enum([
  'open',
  'accepted',
  'declined',
  'withdrawn',
  'countered',
  'expired',
]);
export type ProposalStatus = z.infer<typeof ProposalStatusSchema>;

export const ProposalSchema = z.object({
  version: VersionSchema,
  terms: TermsSchema,
  authorSide: SideSchema,
  actor: PartyActorSchema,
  status: ProposalStatusSchema,
  at: TimestampSchema,
  /** When it stopped being open (accepted, declined, withdrawn, countered, expired). */
  closedAt: TimestampSchema.nullable(),
});
export type Proposal = z.infer<typeof ProposalSchema>;

export const MilestoneStatusSchema = z.enum([
  'pending',
  'funded',
  'submitted',
  'changes_requested',
  'released',
]);
export type MilestoneStatus = z.infer<typeof MilestoneStatusSchema>;

export const SubmissionSchema = z.object({
  seq: z.number().int(),
  at: TimestampSchema,
  by: IdSchema,
  note: z.string(),
  files: z.array(FrozenFileSchema),
});

export const ChangeRequestSchema = z.object({
  seq: z.number().int(),
  at: TimestampSchema,
  by: IdSchema,
  note: z.string(),
});

/** A milestone of the terms in force, with its progress. */
export const MilestoneSchema = z.object({
  id: IdSchema,
  title: z.string(),
  amount: AmountSchema,
  dueDate: DateLikeSchema.nullable(),
  status: MilestoneStatusSchema,
  fundedAmount: AmountSchema.nullable(),
  fundedAt: TimestampSchema.nullable(),
  /** The latest submission's time: the review window runs from it. */
  submittedAt: TimestampSchema.nullable(),
  releasedAt: TimestampSchema.nullable(),
  autoReleased: z.boolean(),
  submissions: z.array(SubmissionSchema),
  changeRequests: z.array(ChangeRequestSchema),
});
export type Milestone = z.infer<typeof MilestoneSchema>;

export const StatusReportSchema = z.object({
  seq: z.number().int(),
  at: TimestampSchema,
  by: IdSchema,
  periodStart: DateLikeSchema,
  periodEnd: DateLikeSchema,
  summary: z.string(),
  hours: z.number(),
  progress: z.array(ProgressItemSchema),
  nextSteps: z.string().nullable(),
  blockers: z.string().nullable(),
});
export type StatusReport = z.infer<typeof StatusReportSchema>;

/** The index of a message (its text lives in the log). Keyed by the seq of its `message.posted`. */
export const MessageMetaSchema = z.object({
  seq: z.number().int(),
  authorId: IdSchema,
  at: TimestampSchema,
  edited: z.boolean(),
  editedAt: TimestampSchema.nullable(),
  deleted: z.boolean(),
  fileIds: z.array(IdSchema),
  replyTo: z.number().int().nullable(),
});
export type MessageMeta = z.infer<typeof MessageMetaSchema>;

/** Messages in chunks of seqs (see shared/domain/messages.ts): chunk number → offset → message. */
export const MessageIndexSchema = z.record(z.string(), z.record(z.string(), MessageMetaSchema));
export type MessageIndex = z.infer<typeof MessageIndexSchema>;

export const RoomFileSchema = z.object({
  id: IdSchema,
  name: z.string(),
  size: z.number().int(),
  contentType: z.string(),
  sha256: z.string(),
  sharedBy: IdSchema,
  at: TimestampSchema,
});
export type RoomFile = z.infer<typeof RoomFileSchema>;

export const FeedbackEntrySchema = z.object({
  by: IdSchema,
  at: TimestampSchema,
  public: PublicFeedbackSchema,
  private: PrivateFeedbackSchema,
});
export type FeedbackEntry = z.infer<typeof FeedbackEntrySchema>;

export const RevealedFeedbackSchema = z.object({
  at: TimestampSchema,
  client: PublicFeedbackSchema.nullable(),
  freelancer: PublicFeedbackSchema.nullable(),
});

/**
 * A room's folded state (and, redacted for a viewer, what `GET /api/rooms/:id` and `room:join`
 * return). Plain JSON: the server stores it as a snapshot. Before `room.created` (seq 0) the
 * text fields are empty strings.
 */
export const RoomStateSchema = z.object({
  id: IdSchema,
  title: z.string(),
  jobId: IdSchema.nullable(),
  clientId: z.string(),
  freelancerId: z.string(),
  interviewerIds: z.array(IdSchema),
  agencyId: IdSchema.nullable(),
  phase: PhaseSchema,
  seq: z.number().int().min(0),
  createdAt: z.string(),
  /** The time of the last event whose actor was not the system (the inactivity rule's clock). */
  lastActivityAt: z.string(),
  startedAt: TimestampSchema.nullable(),
  endedAt: TimestampSchema.nullable(),
  endedBy: z.enum(['client', 'freelancer', 'system']).nullable(),
  endReason: z.string().nullable(),
  /** Every proposal, in version order (version n at index n-1). */
  proposals: z.array(ProposalSchema),
  openProposalVersion: VersionSchema.nullable(),
  termsInForce: z.object({ version: VersionSchema, terms: TermsSchema }).nullable(),
  /** The milestones of the terms in force, in their order (fixed terms only). */
  milestones: z.array(MilestoneSchema),
  /** Currency of the milestones, from the terms in force. */
  currency: CurrencySchema.nullable(),
  statusReports: z.array(StatusReportSchema),
  lastStatusReportAt: TimestampSchema.nullable(),
  remindersSent: z.object({
    /** Inactivity reminders sent since the last activity. */
    inactivity: z.number().int().min(0),
    /** Status-report periods already reminded since the last report (or the start). */
    statusReport: z.number().int().min(0),
  }),
  messages: MessageIndexSchema,
  files: z.record(z.string(), RoomFileSchema),
  feedback: z.object({
    client: FeedbackEntrySchema.nullable(),
    freelancer: FeedbackEntrySchema.nullable(),
  }),
  revealed: RevealedFeedbackSchema.nullable(),
});
export type RoomState = z.infer<typeof RoomStateSchema>;

/** The state as one viewer may see it (same shape; other people's feedback removed). */
export const RoomViewSchema = RoomStateSchema;
export type RoomView = RoomState;
