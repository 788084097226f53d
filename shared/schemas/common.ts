import { z } from 'zod';

/** Size caps shared by every input schema. */
export const LIMITS = {
  idLength: 128,
  title: 200,
  text: 10_000,
  note: 5_000,
  reason: 2_000,
  comment: 5_000,
  fileIds: 20,
  milestones: 100,
  userIds: 20,
  interviewers: 50,
  progress: 100,
  fileName: 255,
  contentType: 255,
  /** Largest amount of money, in minor units (10^13 = 100 billion in a 2-decimal currency). */
  money: 10_000_000_000_000,
  hoursPerReport: 1_000,
  weeklyLimitHours: 168,
} as const;

/**
 * An identifier (user, room, file, milestone, job, agency): 1–128 characters of letters, digits
 * and `_ . : @ -`, starting with a letter or digit. Room/file ids are chosen by the server, user
 * ids come from signed tokens, milestone ids from the proposing party.
 */
export const IdSchema = z
  .string()
  .min(1)
  .max(LIMITS.idLength)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:@-]*$/,
    'must be letters, digits or _ . : @ - and start with a letter or digit',
  );
export type Id = z.infer<typeof IdSchema>;

/** A room's event sequence number: 1, 2, 3 … */
export const SeqSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
/** A position in a room's log: 0 (nothing yet) or a seq. */
export const SeqPositionSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A terms proposal's version within its room: 1, 2, 3 … */
export const VersionSchema = z.number().int().min(1).max(1_000_000);

/** An ISO-8601 timestamp with a time (and `Z` or an offset). */
export const TimestampSchema = z.iso.datetime({ offset: true });
/** A calendar date (`2025-03-31`) or a full ISO-8601 timestamp. */
export const DateLikeSchema = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

/** ISO 4217 currency code, uppercase. */
export const CurrencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be a 3-letter uppercase ISO currency code');
/** Money: integer minor units (cents), strictly positive. Never floats. */
export const AmountSchema = z.number().int().positive().max(LIMITS.money);

export const SideSchema = z.enum(['client', 'freelancer']);
export type Side = z.infer<typeof SideSchema>;

export const RoleSchema = z.enum(['client', 'interviewer', 'freelancer', 'agency_manager']);
export type Role = z.infer<typeof RoleSchema>;

export const PhaseSchema = z.enum(['interview', 'offer', 'active', 'ended']);
export type Phase = z.infer<typeof PhaseSchema>;

/** A party acting in a room; agency managers act with `onBehalfOf` = the freelancer. */
export const PartyActorSchema = z.object({
  id: IdSchema,
  side: SideSchema,
  role: RoleSchema,
  onBehalfOf: IdSchema.optional(),
});
export type PartyActor = z.infer<typeof PartyActorSchema>;

/** What the server itself appends (time rules, file shares of the platform, agency assignment). */
export const SystemActorSchema = z.object({
  id: z.literal('system'),
  side: z.literal('system'),
  role: z.literal('system'),
});
export type SystemActor = z.infer<typeof SystemActorSchema>;

export const ActorSchema = z.union([SystemActorSchema, PartyActorSchema]);
export type Actor = z.infer<typeof ActorSchema>;

export const SYSTEM_ACTOR: SystemActor = Object.freeze({
  id: 'system',
  side: 'system',
  role: 'system',
}) as SystemActor;

/** Who may see an event: everyone in the room, one side, or one user. */
export const AudienceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('all') }),
  z.object({ kind: z.literal('side'), side: SideSchema }),
  z.object({ kind: z.literal('user'), userId: IdSchema }),
]);
export type Audience = z.infer<typeof AudienceSchema>;

/** A user as the platform's token describes them (claims `sub`, `name`, `agency`). */
export const UserIdentitySchema = z.object({
  id: IdSchema,
  name: z.string().max(200).optional(),
  agency: z.object({ id: IdSchema, role: z.enum(['manager', 'member']) }).optional(),
});
export type UserIdentity = z.infer<typeof UserIdentitySchema>;

/** Free text that must contain something other than whitespace. */
export function text(max: number) {
  return z
    .string()
    .min(1)
    .max(max)
    .refine((s) => s.trim().length > 0, 'must not be blank');
}

/** An array whose items (or a key of each) are unique. */
export function uniqueBy<T>(key: (item: T) => string) {
  return (items: readonly T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const k = key(item);
      if (seen.has(k)) ctx.addIssue({ code: 'custom', message: `duplicate ${k}`, path: [index] });
      seen.add(k);
    });
  };
}
