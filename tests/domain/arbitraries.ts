import fc from 'fast-check';
import {
  decide,
  messageList,
  type Command,
  type DomainConfig,
  type RoomState,
} from '../../shared/domain/index.js';
import type { Terms } from '../../shared/schemas/terms.js';
import { PARTIES, Scenario, type PartyWho } from './helpers.js';

/** What a step of a random history tries; turned into a concrete command against the current state. */
export type Intent =
  | { t: 'post'; file: number; reply: number }
  | { t: 'edit' | 'delete'; msg: number }
  | { t: 'members'; id: number }
  | { t: 'propose'; variant: number; amounts: number[] }
  | { t: 'accept' | 'decline' | 'withdraw'; open: boolean; version: number }
  | { t: 'fund' | 'submit' | 'requestChanges' | 'release'; milestone: number; file: number }
  | { t: 'report'; percent: number; withProgress: boolean }
  | { t: 'end' }
  | { t: 'feedback'; rating: number; score: number; n: number }
  | { t: 'share'; file: number };

/** `who: 'auto'` lets the runner pick a party whose role may do the intent (half the time). */
export type Step =
  | { kind: 'command'; who: PartyWho | 'auto'; intent: Intent; advance: number }
  | { kind: 'tick'; advance: number };

const who = fc.oneof(fc.constantFrom<PartyWho>(...PARTIES), fc.constant('auto' as const));
const advance = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 0, max: 10 }) },
  { weight: 4, arbitrary: fc.integer({ min: 10, max: 300 }) },
  { weight: 1, arbitrary: fc.integer({ min: 300, max: 3_500 }) },
);

/** The time rules' periods in random histories (seconds). */
export const HISTORY_CONFIG: DomainConfig = {
  reviewWindowSeconds: 400,
  feedbackWindowSeconds: 1_000,
  inactivityReminderSeconds: [1_000, 2_000],
  inactivityCloseSeconds: 3_000,
  statusReportPeriodSeconds: 700,
};
const small = fc.nat({ max: 7 });

const intent: fc.Arbitrary<Intent> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('post' as const), file: small, reply: small }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constantFrom('edit' as const, 'delete' as const), msg: small }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('members' as const), id: fc.nat({ max: 3 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('propose' as const),
      variant: fc.nat({ max: 5 }),
      amounts: fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 4 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constantFrom('accept' as const, 'decline' as const, 'withdraw' as const),
      open: fc.boolean(),
      version: fc.integer({ min: 1, max: 8 }),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      t: fc.constantFrom('fund' as const, 'submit' as const, 'requestChanges' as const, 'release' as const),
      milestone: small,
      file: small,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('report' as const),
      percent: fc.nat({ max: 100 }),
      withProgress: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'end' as const }) },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('feedback' as const),
      rating: fc.integer({ min: 1, max: 5 }),
      score: fc.nat({ max: 10 }),
      n: fc.nat({ max: 99 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('share' as const), file: fc.nat({ max: 3 }) }) },
);

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 9, arbitrary: fc.record({ kind: fc.constant('command' as const), who, intent, advance }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), advance }) },
);

const hire: Step[] = [
  {
    kind: 'command',
    who: 'client',
    intent: { t: 'propose', variant: 0, amounts: [100, 200, 300] },
    advance: 1,
  },
  { kind: 'command', who: 'freelancer', intent: { t: 'accept', open: true, version: 1 }, advance: 1 },
];
const end: Step = { kind: 'command', who: 'client', intent: { t: 'end' }, advance: 1 };

/**
 * Random histories of up to 60 steps; a third start from a hire and a sixth from an ended
 * contract, so every phase sees plenty of traffic.
 */
export const historyArb: fc.Arbitrary<Step[]> = fc
  .tuple(fc.nat({ max: 5 }), fc.array(stepArb, { minLength: 1, maxLength: 60, size: 'max' }))
  .map(([prelude, steps]) => [...(prelude >= 3 ? hire : []), ...(prelude === 5 ? [end] : []), ...steps]);

function pick<T>(items: readonly T[], index: number): T | undefined {
  return items.length === 0 ? undefined : items[index % items.length];
}

/** Markers that let the privacy property find feedback text anywhere. */
export const publicMarker = (who: PartyWho, n: number) => `PUBLIC-${who}-${n}`;
export const privateMarker = (who: PartyWho, n: number) => `PRIVATE-${who}-${n}`;

function termsFor(state: RoomState, variant: number, amounts: number[]): Terms {
  const current = state.termsInForce?.terms;
  const fresh: Terms = {
    kind: 'fixed',
    currency: 'USD',
    milestones: amounts.map((amount, i) => ({ id: `m${i + 1}`, title: `M${i + 1}`, amount })),
  };
  if (variant === 0 || !current || current.kind !== 'fixed') {
    if (variant === 1)
      return { kind: 'hourly', currency: 'USD', hourlyRate: amounts[0]!, weeklyLimitHours: 10 };
    if (variant === 2) return { kind: 'stipend', currency: 'USD', weeklyAmount: amounts[0]! };
    return fresh;
  }
  // Amendments of the fixed terms in force: add one, reprice pending ones, or anything (maybe unsafe).
  const milestones = state.milestones.map((m) => ({
    id: m.id,
    title: m.title,
    amount: m.amount,
    ...(m.dueDate ? { dueDate: m.dueDate } : {}),
  }));
  if (variant === 3) {
    return {
      ...current,
      milestones: [
        ...milestones,
        { id: `n${state.proposals.length + 1}`, title: 'New', amount: amounts[0]! },
      ],
    };
  }
  if (variant === 4) {
    return {
      ...current,
      milestones: milestones.map((m, i) =>
        state.milestones[i]?.status === 'pending' ? { ...m, amount: amounts[i % amounts.length]! } : m,
      ),
    };
  }
  return fresh;
}

const READY: Record<'fund' | 'submit' | 'requestChanges' | 'release', string[]> = {
  fund: ['pending'],
  submit: ['funded', 'changes_requested'],
  requestChanges: ['submitted'],
  release: ['submitted'],
};

/** A party whose role may do the intent (the side whose turn it is for terms). */
function autoWho(s: Scenario, intent: Intent, seed: number): PartyWho {
  const clientSide: PartyWho = seed % 2 === 0 ? 'client' : 'interviewer';
  const freelancerSide: PartyWho = seed % 2 === 0 ? 'freelancer' : 'agency_manager';
  const open =
    s.state.openProposalVersion == null ? undefined : s.state.proposals[s.state.openProposalVersion - 1];
  switch (intent.t) {
    case 'fund':
    case 'requestChanges':
    case 'release':
      return clientSide;
    case 'submit':
    case 'report':
      return 'freelancer';
    case 'members':
      return 'client';
    case 'end':
    case 'feedback':
      return seed % 2 === 0 ? 'client' : 'freelancer';
    case 'propose':
      if (!open)
        return s.state.phase === 'interview' ? clientSide : seed % 4 < 2 ? clientSide : freelancerSide;
      return open.authorSide === 'client' ? freelancerSide : clientSide;
    case 'accept':
    case 'decline':
      return open?.authorSide === 'client' ? freelancerSide : clientSide;
    case 'withdraw':
      return open?.authorSide === 'freelancer' ? freelancerSide : clientSide;
    default:
      return PARTIES[seed % PARTIES.length]!;
  }
}

/** The concrete command an intent stands for in the current state. */
export function commandFor(s: Scenario, who: PartyWho, intent: Intent): Command | null {
  const state = s.state;
  const files = Object.keys(state.files);
  const messages = messageList(state.messages).map((m) => m.seq);
  switch (intent.t) {
    case 'post': {
      const file = intent.file % 3 === 0 ? pick(files, intent.file) : undefined;
      const reply = intent.reply % 2 === 0 ? pick(messages, intent.reply) : undefined;
      return {
        type: 'message.post',
        text: `message by ${who}`,
        ...(file ? { fileIds: [file] } : {}),
        ...(reply ? { replyTo: reply } : {}),
      };
    }
    case 'edit': {
      const seq = pick(messages, intent.msg);
      return seq ? { type: 'message.edit', seq, text: 'edited' } : null;
    }
    case 'delete': {
      const seq = pick(messages, intent.msg);
      return seq ? { type: 'message.delete', seq } : null;
    }
    case 'members':
      return { type: 'members.add', userIds: [['zed', 'yan', 'dave', 'bob'][intent.id]!] };
    case 'propose':
      return { type: 'terms.propose', terms: termsFor(state, intent.variant, intent.amounts) };
    case 'accept':
    case 'decline':
    case 'withdraw': {
      const version =
        intent.open && state.openProposalVersion != null ? state.openProposalVersion : intent.version;
      return { type: `terms.${intent.t}`, version };
    }
    case 'fund':
    case 'requestChanges':
    case 'release':
    case 'submit': {
      const ready = state.milestones.filter((m) => READY[intent.t].includes(m.status));
      const milestoneId =
        (intent.milestone % 4 !== 0 ? pick(ready, intent.milestone) : undefined)?.id ??
        pick(state.milestones, intent.milestone)?.id ??
        `m${intent.milestone}`;
      if (intent.t === 'fund') return { type: 'milestone.fund', milestoneId };
      if (intent.t === 'release') return { type: 'milestone.release', milestoneId };
      if (intent.t === 'requestChanges')
        return { type: 'milestone.requestChanges', milestoneId, note: 'please' };
      const file = pick(files, intent.file);
      return {
        type: 'milestone.submit',
        milestoneId,
        note: 'delivered',
        ...(file && intent.file % 2 === 0 ? { fileIds: [file] } : {}),
      };
    }
    case 'report': {
      const m = pick(state.milestones, intent.percent);
      return {
        type: 'statusReport.submit',
        periodStart: '2030-01-01',
        periodEnd: '2030-01-07',
        summary: 'work',
        hours: intent.percent / 4,
        progress: intent.withProgress && m ? [{ milestoneId: m.id, percent: intent.percent }] : [],
      };
    }
    case 'end':
      return { type: 'contract.end' };
    case 'feedback':
      return {
        type: 'feedback.submit',
        public: { rating: intent.rating, comment: publicMarker(who, intent.n) },
        private: { score: intent.score, note: privateMarker(who, intent.n) },
      };
    case 'share':
      return null;
  }
}

export interface History {
  s: Scenario;
  accepted: number;
}

/** Runs random steps the way the server would: decide, append (evolve), and run the time rules. */
export function runHistory(steps: Step[], check?: (s: Scenario, before: RoomState) => void): History {
  const s = Scenario.created({ config: HISTORY_CONFIG });
  let accepted = 0;
  for (const [index, step] of steps.entries()) {
    s.advance(step.advance);
    const before = s.state;
    if (step.kind === 'tick') {
      s.tick();
    } else {
      const who = step.who === 'auto' ? autoWho(s, step.intent, index) : step.who;
      if (step.intent.t === 'share') {
        const fileId = `f${step.intent.file}`;
        if (s.state.phase !== 'ended' && !Object.hasOwn(s.state.files, fileId)) s.share(who, fileId);
      } else {
        const command = commandFor(s, who, step.intent);
        const actor = s.actor(who);
        const result = command && decide(s.state, command, actor, s.now, s.config);
        if (result?.ok) {
          accepted += 1;
          s.append(result.events, actor);
        }
      }
    }
    check?.(s, before);
  }
  return { s, accepted };
}

/** Values canonicalJson takes: the JSON types, dates, and undefined in arrays and objects. */
export function canonicalValueArb(
  text: fc.Arbitrary<string>,
  key: fc.Arbitrary<string>,
): fc.Arbitrary<unknown> {
  return fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      fc.oneof(
        text,
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
      ),
      fc.date({ noInvalidDate: true }),
      fc.array(fc.oneof(tie('node'), fc.constant(undefined))),
      fc.dictionary(key, fc.oneof(tie('node'), fc.constant(undefined))),
    ),
  })).node;
}
