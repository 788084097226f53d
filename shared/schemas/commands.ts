import { z } from 'zod';
import { DateLikeSchema, IdSchema, LIMITS, SeqSchema, VersionSchema, text, uniqueBy } from './common.js';
import { TermsSchema } from './terms.js';

const FileIdsSchema = z
  .array(IdSchema)
  .max(LIMITS.fileIds)
  .superRefine(uniqueBy((id) => id));

export const MessagePostSchema = z.strictObject({
  type: z.literal('message.post'),
  text: text(LIMITS.text),
  fileIds: FileIdsSchema.optional(),
  replyTo: SeqSchema.optional(),
});

export const MessageEditSchema = z.strictObject({
  type: z.literal('message.edit'),
  seq: SeqSchema,
  text: text(LIMITS.text),
});

export const MessageDeleteSchema = z.strictObject({
  type: z.literal('message.delete'),
  seq: SeqSchema,
});

export const MembersAddSchema = z.strictObject({
  type: z.literal('members.add'),
  userIds: z
    .array(IdSchema)
    .min(1)
    .max(LIMITS.userIds)
    .superRefine(uniqueBy((id) => id)),
});

export const TermsProposeSchema = z.strictObject({
  type: z.literal('terms.propose'),
  terms: TermsSchema,
});

export const TermsAcceptSchema = z.strictObject({
  type: z.literal('terms.accept'),
  version: VersionSchema,
});

export const TermsDeclineSchema = z.strictObject({
  type: z.literal('terms.decline'),
  version: VersionSchema,
  reason: z.string().max(LIMITS.reason).optional(),
});

export const TermsWithdrawSchema = z.strictObject({
  type: z.literal('terms.withdraw'),
  version: VersionSchema,
});

export const MilestoneFundSchema = z.strictObject({
  type: z.literal('milestone.fund'),
  milestoneId: IdSchema,
});

export const MilestoneSubmitSchema = z.strictObject({
  type: z.literal('milestone.submit'),
  milestoneId: IdSchema,
  note: text(LIMITS.note),
  fileIds: FileIdsSchema.optional(),
});

export const MilestoneRequestChangesSchema = z.strictObject({
  type: z.literal('milestone.requestChanges'),
  milestoneId: IdSchema,
  note: text(LIMITS.note),
});

export const MilestoneReleaseSchema = z.strictObject({
  type: z.literal('milestone.release'),
  milestoneId: IdSchema,
});

export const ProgressItemSchema = z.strictObject({
  milestoneId: IdSchema,
  percent: z.number().int().min(0).max(100),
});

export const StatusReportSubmitSchema = z
  .strictObject({
    type: z.literal('statusReport.submit'),
    periodStart: DateLikeSchema,
    periodEnd: DateLikeSchema,
    summary: text(LIMITS.text),
    hours: z.number().min(0).max(LIMITS.hoursPerReport),
    progress: z
      .array(ProgressItemSchema)
      .max(LIMITS.progress)
      .superRefine(uniqueBy((p) => p.milestoneId)),
    nextSteps: z.string().max(LIMITS.note).optional(),
    blockers: z.string().max(LIMITS.note).optional(),
  })
  .refine((r) => Date.parse(r.periodStart) <= Date.parse(r.periodEnd), {
    message: 'periodStart must not be after periodEnd',
    path: ['periodEnd'],
  });

export const ContractEndSchema = z.strictObject({
  type: z.literal('contract.end'),
  reason: z.string().max(LIMITS.reason).optional(),
});

export const PublicFeedbackSchema = z.strictObject({
  rating: z.number().int().min(1).max(5),
  comment: z.string().max(LIMITS.comment),
});
export type PublicFeedback = z.infer<typeof PublicFeedbackSchema>;

export const PrivateFeedbackSchema = z.strictObject({
  score: z.number().int().min(0).max(10),
  note: z.string().max(LIMITS.comment).optional(),
});
export type PrivateFeedback = z.infer<typeof PrivateFeedbackSchema>;

export const FeedbackSubmitSchema = z.strictObject({
  type: z.literal('feedback.submit'),
  public: PublicFeedbackSchema,
  private: PrivateFeedbackSchema,
});

/** Every command a party may send (`room:command`'s `command`). */
export const CommandSchema = z.discriminatedUnion('type', [
  MessagePostSchema,
  MessageEditSchema,
  MessageDeleteSchema,
  MembersAddSchema,
  TermsProposeSchema,
  TermsAcceptSchema,
  TermsDeclineSchema,
  TermsWithdrawSchema,
  MilestoneFundSchema,
  MilestoneSubmitSchema,
  MilestoneRequestChangesSchema,
  MilestoneReleaseSchema,
  StatusReportSubmitSchema,
  ContractEndSchema,
  FeedbackSubmitSchema,
]);
export type Command = z.infer<typeof CommandSchema>;
export type CommandType = Command['type'];
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;

export const COMMAND_TYPES = [
  'message.post',
  'message.edit',
  'message.delete',
  'members.add',
  'terms.propose',
  'terms.accept',
  'terms.decline',
  'terms.withdraw',
  'milestone.fund',
  'milestone.submit',
  'milestone.requestChanges',
  'milestone.release',
  'statusReport.submit',
  'contract.end',
  'feedback.submit',
] as const satisfies readonly CommandType[];

// ---- Internal commands: issued by the server itself, never accepted from the wire. ----

export const RoomCreateSchema = z.strictObject({
  type: z.literal('room.create'),
  title: text(LIMITS.title),
  clientId: IdSchema,
  freelancerId: IdSchema,
  jobId: IdSchema.optional(),
  interviewerIds: z
    .array(IdSchema)
    .max(LIMITS.interviewers)
    .superRefine(uniqueBy((id) => id))
    .optional(),
  agencyId: IdSchema.optional(),
});

export const FileShareSchema = z.strictObject({
  type: z.literal('file.share'),
  fileId: IdSchema,
  name: z.string().min(1).max(LIMITS.fileName),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  contentType: z.string().min(1).max(LIMITS.contentType),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256'),
});

export const RoomAssignAgencySchema = z.strictObject({
  type: z.literal('room.assignAgency'),
  agencyId: IdSchema,
});

export const InternalCommandSchema = z.discriminatedUnion('type', [
  RoomCreateSchema,
  FileShareSchema,
  RoomAssignAgencySchema,
]);
export type InternalCommand = z.infer<typeof InternalCommandSchema>;
