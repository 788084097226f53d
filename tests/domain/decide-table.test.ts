import { describe, expect, it } from 'vitest';
import { decide, evolve, resolveParty, type Command, type PartyActor } from '../../shared/domain/index.js';
import { COMMAND_TYPES } from '../../shared/schemas/commands.js';
import type { Terms } from '../../shared/schemas/terms.js';
import {
  PARTIES,
  Scenario,
  USERS,
  fixedTerms,
  hourlyTerms,
  outcome,
  stamp,
  type PartyWho,
} from './helpers.js';

// ---- The rooms every row runs against, each built from real commands. ----

interface Ctx {
  s: Scenario;
  /** A message posted by each party (in the interview). */
  msgs: Record<PartyWho, number>;
}

const FIVE = [1000, 2000, 3000, 4000, 5000];

function interview(): Ctx {
  const s = Scenario.created();
  s.share('client', 'f1');
  const msgs = Object.fromEntries(PARTIES.map((who) => [who, s.post(who)])) as Record<PartyWho, number>;
  return { s, msgs };
}

function offer(): Ctx {
  const ctx = interview();
  ctx.s.run('interviewer', { type: 'terms.propose', terms: fixedTerms(FIVE) });
  return ctx;
}

function offerCountered(): Ctx {
  const ctx = offer();
  ctx.s.run('agency_manager', { type: 'terms.propose', terms: fixedTerms([1500, 2000, 3000, 4000, 5000]) });
  return ctx;
}

/** Active on v1: m1 pending, m2 funded, m3 submitted, m4 changes_requested, m5 released. */
function active(): Ctx {
  const ctx = offer();
  const s = ctx.s;
  s.run('freelancer', { type: 'terms.accept', version: 1 });
  for (const id of ['m2', 'm3', 'm4', 'm5']) s.run('client', { type: 'milestone.fund', milestoneId: id });
  s.share('freelancer', 'f2');
  for (const id of ['m3', 'm4', 'm5'])
    s.run('freelancer', { type: 'milestone.submit', milestoneId: id, note: 'done', fileIds: ['f2'] });
  s.run('interviewer', { type: 'milestone.requestChanges', milestoneId: 'm4', note: 'more' });
  s.run('client', { type: 'milestone.release', milestoneId: 'm5' });
  return ctx;
}

/** Active with an amendment (v2) open, authored by the freelancer side. */
function activeAmending(): Ctx {
  const ctx = active();
  ctx.s.run('freelancer', { type: 'terms.propose', terms: fixedTerms([...FIVE, 6000]) });
  return ctx;
}

function activeHourly(): Ctx {
  const ctx = interview();
  ctx.s.run('client', { type: 'terms.propose', terms: hourlyTerms });
  ctx.s.run('agency_manager', { type: 'terms.accept', version: 1 });
  return ctx;
}

function ended(): Ctx {
  const ctx = active();
  ctx.s.run('client', { type: 'contract.end', reason: 'done' });
  return ctx;
}

function endedClientFeedback(): Ctx {
  const ctx = ended();
  ctx.s.run('client', feedback());
  return ctx;
}

const PHASES = {
  interview,
  offer,
  offerCountered,
  active,
  activeAmending,
  activeHourly,
  ended,
  endedClientFeedback,
};
type PhaseName = keyof typeof PHASES;
const built = Object.fromEntries(Object.entries(PHASES).map(([k, f]) => [k, f()])) as Record<PhaseName, Ctx>;

// ---- Commands ----

function feedback(): Command {
  return {
    type: 'feedback.submit',
    public: { rating: 5, comment: 'great' },
    private: { score: 9, note: 'n' },
  };
}
const report = (progress: { milestoneId: string; percent: number }[] = []): Command => ({
  type: 'statusReport.submit',
  periodStart: '2030-01-01',
  periodEnd: '2030-01-07',
  summary: 'work',
  hours: 10,
  progress,
});
const propose = (terms: Terms): Command => ({ type: 'terms.propose', terms });
const withoutM2: Terms = {
  ...fixedTerms(FIVE),
  milestones: fixedTerms(FIVE).milestones.filter((m) => m.id !== 'm2'),
};
const otherAuthor = (who: PartyWho): PartyWho => (who === 'client' ? 'freelancer' : 'client');

type Expected = string[] | string;
type Row = Record<PartyWho, Expected>;
const all = (e: Expected): Row => ({ client: e, interviewer: e, freelancer: e, agency_manager: e });
const sides = (clientSide: Expected, freelancerSide: Expected): Row => ({
  client: clientSide,
  interviewer: clientSide,
  freelancer: freelancerSide,
  agency_manager: freelancerSide,
});
const roles = (
  client: Expected,
  interviewer: Expected,
  freelancer: Expected,
  agency_manager: Expected,
): Row => ({
  client,
  interviewer,
  freelancer,
  agency_manager,
});

interface Case {
  phase: PhaseName;
  name: string;
  command: (who: PartyWho, ctx: Ctx) => Command;
  expect: Row;
}

const F = 'FORBIDDEN';
const C = 'CONFLICT';
const NF = 'NOT_FOUND';
const INV = 'INVALID';

/** Rows shared by every phase in which there is no active contract. */
function notActiveRows(phase: PhaseName): Case[] {
  // One row per line, so the table reads as one.
  // prettier-ignore
  return [
    { phase, name: 'milestone.fund', command: () => ({ type: 'milestone.fund', milestoneId: 'm1' }), expect: sides(C, F) },
    { phase, name: 'milestone.submit', command: () => ({ type: 'milestone.submit', milestoneId: 'm1', note: 'x' }), expect: roles(F, F, C, F) },
    { phase, name: 'milestone.requestChanges', command: () => ({ type: 'milestone.requestChanges', milestoneId: 'm1', note: 'x' }), expect: sides(C, F) },
    { phase, name: 'milestone.release', command: () => ({ type: 'milestone.release', milestoneId: 'm1' }), expect: sides(C, F) },
    { phase, name: 'statusReport.submit', command: () => report(), expect: roles(F, F, C, F) },
    { phase, name: 'contract.end', command: () => ({ type: 'contract.end' }), expect: roles(C, F, C, F) },
  ];
}

function chatRows(phase: PhaseName): Case[] {
  // prettier-ignore
  return [
    { phase, name: 'message.post', command: () => ({ type: 'message.post', text: 'hi', fileIds: ['f1'] }), expect: all(['message.posted']) },
    { phase, name: 'message.post reply', command: (_w, c) => ({ type: 'message.post', text: 'hi', replyTo: c.msgs.client }), expect: all(['message.posted']) },
    { phase, name: 'message.post unknown file', command: () => ({ type: 'message.post', text: 'hi', fileIds: ['nope'] }), expect: all(INV) },
    { phase, name: 'message.post reply to nothing', command: () => ({ type: 'message.post', text: 'hi', replyTo: 9999 }), expect: all(NF) },
    { phase, name: 'message.edit own', command: (w, c) => ({ type: 'message.edit', seq: c.msgs[w], text: 'edited' }), expect: all(['message.edited']) },
    { phase, name: "message.edit another's", command: (w, c) => ({ type: 'message.edit', seq: c.msgs[otherAuthor(w)], text: 'x' }), expect: all(F) },
    { phase, name: 'message.edit missing', command: () => ({ type: 'message.edit', seq: 9999, text: 'x' }), expect: all(NF) },
    { phase, name: 'message.delete own', command: (w, c) => ({ type: 'message.delete', seq: c.msgs[w] }), expect: all(['message.deleted']) },
    { phase, name: "message.delete another's", command: (w, c) => ({ type: 'message.delete', seq: c.msgs[otherAuthor(w)] }), expect: all(F) },
    { phase, name: 'members.add', command: () => ({ type: 'members.add', userIds: ['zed'] }), expect: roles(['members.added'], F, F, F) },
    { phase, name: 'feedback.submit', command: () => feedback(), expect: roles(C, F, C, F) },
  ];
}

// prettier-ignore
const CASES: Case[] = [
  // interview
  ...chatRows('interview'),
  ...notActiveRows('interview'),
  { phase: 'interview', name: 'terms.propose (offer)', command: () => propose(fixedTerms()), expect: sides(['terms.proposed'], C) },
  { phase: 'interview', name: 'terms.accept', command: () => ({ type: 'terms.accept', version: 1 }), expect: all(C) },
  { phase: 'interview', name: 'terms.decline', command: () => ({ type: 'terms.decline', version: 1 }), expect: all(C) },
  { phase: 'interview', name: 'terms.withdraw', command: () => ({ type: 'terms.withdraw', version: 1 }), expect: all(C) },

  // offer (v1 open, by the client side)
  ...chatRows('offer'),
  ...notActiveRows('offer'),
  { phase: 'offer', name: 'terms.propose (counter)', command: () => propose(hourlyTerms), expect: sides(C, ['terms.proposed']) },
  { phase: 'offer', name: 'terms.accept (hire)', command: () => ({ type: 'terms.accept', version: 1 }), expect: sides(C, ['terms.accepted', 'contract.started']) },
  { phase: 'offer', name: 'terms.decline', command: () => ({ type: 'terms.decline', version: 1, reason: 'no' }), expect: sides(C, ['terms.declined']) },
  { phase: 'offer', name: 'terms.withdraw', command: () => ({ type: 'terms.withdraw', version: 1 }), expect: sides(['terms.withdrawn'], C) },
  { phase: 'offer', name: 'terms.accept unknown version', command: () => ({ type: 'terms.accept', version: 2 }), expect: all(C) },

  // offer countered (v2 open, by the freelancer side; v1 countered)
  { phase: 'offerCountered', name: 'terms.accept counter (hire)', command: () => ({ type: 'terms.accept', version: 2 }), expect: sides(['terms.accepted', 'contract.started'], C) },
  { phase: 'offerCountered', name: 'terms.accept stale version', command: () => ({ type: 'terms.accept', version: 1 }), expect: all(C) },
  { phase: 'offerCountered', name: 'terms.decline counter', command: () => ({ type: 'terms.decline', version: 2 }), expect: sides(['terms.declined'], C) },
  { phase: 'offerCountered', name: 'terms.withdraw counter', command: () => ({ type: 'terms.withdraw', version: 2 }), expect: sides(C, ['terms.withdrawn']) },
  { phase: 'offerCountered', name: 'terms.propose (counter back)', command: () => propose(fixedTerms()), expect: sides(['terms.proposed'], C) },

  // active (v1: m1 pending, m2 funded, m3 submitted, m4 changes_requested, m5 released)
  ...chatRows('active'),
  { phase: 'active', name: 'terms.propose amendment', command: () => propose(fixedTerms([...FIVE, 6000])), expect: all(['terms.proposed']) },
  { phase: 'active', name: 'terms.propose removing a funded milestone', command: () => propose(withoutM2), expect: all(C) },
  { phase: 'active', name: 'terms.propose hourly (removes milestones)', command: () => propose(hourlyTerms), expect: all(C) },
  { phase: 'active', name: 'terms.accept (nothing open)', command: () => ({ type: 'terms.accept', version: 1 }), expect: all(C) },
  { phase: 'active', name: 'terms.decline (nothing open)', command: () => ({ type: 'terms.decline', version: 1 }), expect: all(C) },
  { phase: 'active', name: 'terms.withdraw (nothing open)', command: () => ({ type: 'terms.withdraw', version: 1 }), expect: all(C) },
  { phase: 'active', name: 'milestone.fund pending', command: () => ({ type: 'milestone.fund', milestoneId: 'm1' }), expect: sides(['milestone.funded'], F) },
  { phase: 'active', name: 'milestone.fund funded', command: () => ({ type: 'milestone.fund', milestoneId: 'm2' }), expect: sides(C, F) },
  { phase: 'active', name: 'milestone.fund missing', command: () => ({ type: 'milestone.fund', milestoneId: 'zz' }), expect: sides(NF, F) },
  { phase: 'active', name: 'milestone.submit funded', command: () => ({ type: 'milestone.submit', milestoneId: 'm2', note: 'n', fileIds: ['f1', 'f2'] }), expect: roles(F, F, ['milestone.submitted'], F) },
  { phase: 'active', name: 'milestone.submit after changes requested', command: () => ({ type: 'milestone.submit', milestoneId: 'm4', note: 'n' }), expect: roles(F, F, ['milestone.submitted'], F) },
  { phase: 'active', name: 'milestone.submit pending', command: () => ({ type: 'milestone.submit', milestoneId: 'm1', note: 'n' }), expect: roles(F, F, C, F) },
  { phase: 'active', name: 'milestone.submit unknown file', command: () => ({ type: 'milestone.submit', milestoneId: 'm2', note: 'n', fileIds: ['nope'] }), expect: roles(F, F, INV, F) },
  { phase: 'active', name: 'milestone.submit missing', command: () => ({ type: 'milestone.submit', milestoneId: 'zz', note: 'n' }), expect: roles(F, F, NF, F) },
  { phase: 'active', name: 'milestone.requestChanges submitted', command: () => ({ type: 'milestone.requestChanges', milestoneId: 'm3', note: 'n' }), expect: sides(['milestone.changesRequested'], F) },
  { phase: 'active', name: 'milestone.requestChanges funded', command: () => ({ type: 'milestone.requestChanges', milestoneId: 'm2', note: 'n' }), expect: sides(C, F) },
  { phase: 'active', name: 'milestone.release submitted', command: () => ({ type: 'milestone.release', milestoneId: 'm3' }), expect: sides(['milestone.released'], F) },
  { phase: 'active', name: 'milestone.release released', command: () => ({ type: 'milestone.release', milestoneId: 'm5' }), expect: sides(C, F) },
  { phase: 'active', name: 'milestone.release funded', command: () => ({ type: 'milestone.release', milestoneId: 'm2' }), expect: sides(C, F) },
  { phase: 'active', name: 'milestone.release changes requested', command: () => ({ type: 'milestone.release', milestoneId: 'm4' }), expect: sides(C, F) },
  { phase: 'active', name: 'statusReport.submit', command: () => report([{ milestoneId: 'm1', percent: 50 }]), expect: roles(F, F, ['statusReport.submitted'], F) },
  { phase: 'active', name: 'statusReport.submit unknown milestone', command: () => report([{ milestoneId: 'zz', percent: 50 }]), expect: roles(F, F, NF, F) },
  { phase: 'active', name: 'contract.end', command: () => ({ type: 'contract.end', reason: 'done' }), expect: roles(['contract.ended'], F, ['contract.ended'], F) },

  // active with an open amendment by the freelancer side
  { phase: 'activeAmending', name: 'terms.accept amendment', command: () => ({ type: 'terms.accept', version: 2 }), expect: sides(['terms.accepted'], C) },
  { phase: 'activeAmending', name: 'terms.decline amendment', command: () => ({ type: 'terms.decline', version: 2 }), expect: sides(['terms.declined'], C) },
  { phase: 'activeAmending', name: 'terms.withdraw amendment', command: () => ({ type: 'terms.withdraw', version: 2 }), expect: sides(C, ['terms.withdrawn']) },
  { phase: 'activeAmending', name: 'terms.propose (counter)', command: () => propose(fixedTerms(FIVE)), expect: sides(['terms.proposed'], C) },
  { phase: 'activeAmending', name: 'terms.accept the terms in force', command: () => ({ type: 'terms.accept', version: 1 }), expect: all(C) },

  // active on hourly terms
  { phase: 'activeHourly', name: 'milestone.fund (no milestones)', command: () => ({ type: 'milestone.fund', milestoneId: 'm1' }), expect: sides(C, F) },
  { phase: 'activeHourly', name: 'milestone.submit (no milestones)', command: () => ({ type: 'milestone.submit', milestoneId: 'm1', note: 'n' }), expect: roles(F, F, C, F) },
  { phase: 'activeHourly', name: 'statusReport.submit', command: () => report(), expect: roles(F, F, ['statusReport.submitted'], F) },
  { phase: 'activeHourly', name: 'statusReport.submit with milestone progress', command: () => report([{ milestoneId: 'm1', percent: 5 }]), expect: roles(F, F, INV, F) },
  { phase: 'activeHourly', name: 'terms.propose to fixed', command: () => propose(fixedTerms()), expect: all(['terms.proposed']) },

  // ended
  { phase: 'ended', name: 'message.post', command: () => ({ type: 'message.post', text: 'hi' }), expect: all(C) },
  { phase: 'ended', name: 'message.edit own', command: (w, c) => ({ type: 'message.edit', seq: c.msgs[w], text: 'x' }), expect: all(C) },
  { phase: 'ended', name: 'message.delete own', command: (w, c) => ({ type: 'message.delete', seq: c.msgs[w] }), expect: all(C) },
  { phase: 'ended', name: 'members.add', command: () => ({ type: 'members.add', userIds: ['zed'] }), expect: roles(C, F, F, F) },
  { phase: 'ended', name: 'terms.propose', command: () => propose(fixedTerms(FIVE)), expect: all(C) },
  { phase: 'ended', name: 'terms.accept', command: () => ({ type: 'terms.accept', version: 1 }), expect: all(C) },
  { phase: 'ended', name: 'terms.decline', command: () => ({ type: 'terms.decline', version: 1 }), expect: all(C) },
  { phase: 'ended', name: 'terms.withdraw', command: () => ({ type: 'terms.withdraw', version: 1 }), expect: all(C) },
  { phase: 'ended', name: 'milestone.fund', command: () => ({ type: 'milestone.fund', milestoneId: 'm1' }), expect: sides(C, F) },
  { phase: 'ended', name: 'milestone.submit', command: () => ({ type: 'milestone.submit', milestoneId: 'm2', note: 'n' }), expect: roles(F, F, C, F) },
  { phase: 'ended', name: 'milestone.requestChanges', command: () => ({ type: 'milestone.requestChanges', milestoneId: 'm3', note: 'n' }), expect: sides(C, F) },
  { phase: 'ended', name: 'milestone.release', command: () => ({ type: 'milestone.release', milestoneId: 'm3' }), expect: sides(C, F) },
  { phase: 'ended', name: 'statusReport.submit', command: () => report(), expect: roles(F, F, C, F) },
  { phase: 'ended', name: 'contract.end', command: () => ({ type: 'contract.end' }), expect: roles(C, F, C, F) },
  { phase: 'ended', name: 'feedback.submit', command: () => feedback(), expect: roles(['feedback.submitted'], F, ['feedback.submitted'], F) },

  // ended, the client's feedback already in
  { phase: 'endedClientFeedback', name: 'feedback.submit (second: reveal)', command: () => feedback(), expect: roles(C, F, ['feedback.submitted', 'feedback.revealed'], F) },
];

describe('decide: every command × role × phase', () => {
  it.each(CASES.map((c) => [`${c.phase}: ${c.name}`, c] as const))('%s', (_name, c) => {
    const ctx = built[c.phase];
    const state = ctx.s.state;
    const got = Object.fromEntries(
      PARTIES.map((who) => {
        const actor = ctx.s.actor(who);
        const result = decide(state, c.command(who, ctx), actor, ctx.s.now, ctx.s.config);
        if (result.ok) {
          // Whatever decide accepts applies cleanly.
          let next = state;
          for (const e of stamp(state, result.events, actor, ctx.s.now, null)) next = evolve(next, e);
          expect(next.seq).toBe(state.seq + result.events.length);
        }
        return [who, outcome(result)];
      }),
    );
    expect(got).toEqual(c.expect);
    // An outsider is nobody in the room, and an actor claiming a role it does not hold is refused.
    expect(resolveParty(state, USERS.outsider)).toBeNull();
    // (An agency manager's membership lives in the token, which only resolveParty sees.)
    for (const role of ['client', 'interviewer', 'freelancer'] as const) {
      const fake: PartyActor = {
        id: USERS.outsider.id,
        side: role === 'freelancer' ? 'freelancer' : 'client',
        role,
      };
      const result = decide(state, c.command('client', ctx), fake, ctx.s.now, ctx.s.config);
      expect(outcome(result)).toBe('FORBIDDEN');
    }
  });

  it('covers every wire command type in every phase', () => {
    const types = new Set(CASES.map((c) => `${c.phase}:${c.command('client', built[c.phase]).type}`));
    for (const phase of ['interview', 'offer', 'active', 'ended'] as const) {
      const related = Object.keys(PHASES).filter((p) => p.startsWith(phase));
      for (const type of COMMAND_TYPES) {
        expect(
          related.some((p) => types.has(`${p}:${type}`)),
          `${phase} × ${type}`,
        ).toBe(true);
      }
    }
  });
});
