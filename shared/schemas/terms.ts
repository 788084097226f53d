import { z } from 'zod';
import { AmountSchema, CurrencySchema, DateLikeSchema, IdSchema, LIMITS, text, uniqueBy } from './common.js';

/** One milestone of fixed-price terms; its id is stable across versions so amendments can name it. */
export const TermsMilestoneSchema = z.strictObject({
  id: IdSchema,
  title: text(LIMITS.title),
  amount: AmountSchema,
  dueDate: DateLikeSchema.optional(),
});
export type TermsMilestone = z.infer<typeof TermsMilestoneSchema>;

const common = {
  currency: CurrencySchema,
  startDate: DateLikeSchema.optional(),
  note: z.string().max(LIMITS.note).optional(),
};

export const FixedTermsSchema = z.strictObject({
  kind: z.literal('fixed'),
  ...common,
  milestones: z
    .array(TermsMilestoneSchema)
    .min(1)
    .max(LIMITS.milestones)
    .superRefine(uniqueBy((m) => m.id)),
});

export const HourlyTermsSchema = z.strictObject({
  kind: z.literal('hourly'),
  ...common,
  hourlyRate: AmountSchema,
  weeklyLimitHours: z.number().int().min(1).max(LIMITS.weeklyLimitHours),
});

export const StipendTermsSchema = z.strictObject({
  kind: z.literal('stipend'),
  ...common,
  weeklyAmount: AmountSchema,
});

/**
 * The whole terms of a proposal (never a patch): `fixed` carries milestones, `hourly` a rate and
 * a weekly limit, `stipend` a weekly amount; the other kinds' fields are refused.
 */
export const TermsSchema = z.discriminatedUnion('kind', [
  FixedTermsSchema,
  HourlyTermsSchema,
  StipendTermsSchema,
]);
export type Terms = z.infer<typeof TermsSchema>;
export type FixedTerms = z.infer<typeof FixedTermsSchema>;
export type TermsKind = Terms['kind'];
