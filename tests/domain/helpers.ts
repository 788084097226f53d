import { expect } from 'vitest';
import {
  decide,
  emptyRoomState,
  evolve,
  resolveParty,
  tick,
  type Actor,
  type Command,
  type DomainConfig,
  type DomainResult,
  type EventDraft,
  type InternalCommand,
  type PartyActor,
  type RoomState,
  type StoredEvent,
  type UserIdentity,
} from '../../shared/domain/index.js';
import type { FixedTerms, Terms } from '../../shared/schemas/terms.js';

export const USERS = {
  client: { id: 'alice', name: 'Alice Client' },
  interviewer: { id: 'dave', name: 'Dave Interviewer' },
  freelancer: { id: 'bob', name: 'Bob Freelancer', agency: { id: 'acme', role: 'member' } },
  agency_manager: { id: 'carol', name: 'Carol Manager', agency: { id: 'acme', role: 'manager' } },
  outsider: { id: 'mallory', name: 'Mallory Outsider' },
} as const satisfies Record<string, UserIdentity>;

export type Who = keyof typeof USERS;
export type PartyWho = Exclude<Who, 'outsider'>;
export const PARTIES: readonly PartyWho[] = ['client', 'interviewer', 'freelancer', 'agency_manager'];
export const EVERYONE: readonly Who[] = [...PARTIES, 'outsider'];

export const SYSTEM: Actor = { id: 'system', side: 'system', role: 'system' };

export const TEST_CONFIG: DomainConfig = {
  reviewWindowSeconds: 100,
  feedbackWindowSeconds: 200,
  inactivityReminderSeconds: [1_000, 2_000],
  inactivityCloseSeconds: 3_000,
  statusReportPeriodSeconds: 500,
};

export const T0 = Date.parse('2030-01-01T00:00:00.000Z');

export const SHA = (c: string) => c.repeat(64).slice(0, 64);

export function fixedTerms(amounts: number[] = [1000, 2000, 3000], currency = 'USD'): FixedTerms {
  return {
    kind: 'fixed',
    currency,
    milestones: amounts.map((amount, i) => ({ id: `m${i + 1}`, title: `Milestone ${i + 1}`, amount })),
  };
}

export const hourlyTerms: Terms = { kind: 'hourly', currency: 'USD', hourlyRate: 5000, weeklyLimitHours: 20 };
export const stipendTerms: Terms = { kind: 'stipend', currency: 'EUR', weeklyAmount: 100000 };

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

/** Stamps drafts as the server would (seq, time, actor, a chain of stand-in hashes). */
export function stamp(
  state: RoomState,
  drafts: EventDraft[],
  actor: Actor,
  at: Date,
  prevHash: string | null,
): StoredEvent[] {
  let seq = state.seq;
  let prev = prevHash;
  return drafts.map((draft) => {
    seq += 1;
    const hash = `h${seq}`;
    const event = { ...draft, seq, at: at.toISOString(), actor, prevHash: prev, hash } as StoredEvent;
    prev = hash;
    return event;
  });
}

/**
 * A room built by running real commands through decide and folding their events with evolve,
 * the way the server does — so tests never hand-craft states.
 */
export class Scenario {
  state: RoomState = emptyRoomState('room-1');
  log: StoredEvent[] = [];
  now = new Date(T0);

  constructor(readonly config: DomainConfig = TEST_CONFIG) {}

  static created(options: { agency?: boolean; interviewer?: boolean; config?: DomainConfig } = {}): Scenario {
    const s = new Scenario(options.config);
    s.internal(
      {
        type: 'room.create',
        title: 'Build a website',
        clientId: USERS.client.id,
        freelancerId: USERS.freelancer.id,
        jobId: 'job-1',
        ...(options.interviewer === false ? {} : { interviewerIds: [USERS.interviewer.id] }),
        ...(options.agency === false ? {} : { agencyId: 'acme' }),
      },
      { id: USERS.client.id, side: 'client', role: 'client' },
    );
    return s;
  }

  actor(who: PartyWho): PartyActor {
    const actor = resolveParty(this.state, USERS[who]);
    if (!actor) throw new Error(`${who} is not a party`);
    return actor;
  }

  try(who: PartyWho, command: Command): DomainResult {
    return decide(this.state, command, this.actor(who), this.now, this.config);
  }

  /** Runs a command that must succeed; returns the appended events. */
  run(who: PartyWho, command: Command): StoredEvent[] {
    return this.apply(this.try(who, command), this.actor(who));
  }

  internal(command: InternalCommand, actor: Actor): StoredEvent[] {
    return this.apply(decide(this.state, command, actor, this.now, this.config), actor);
  }

  apply(result: DomainResult, actor: Actor): StoredEvent[] {
    if (!result.ok) throw new Error(`expected success, got ${result.error.code}: ${result.error.message}`);
    return this.append(result.events, actor);
  }

  append(drafts: EventDraft[], actor: Actor): StoredEvent[] {
    const events = stamp(this.state, drafts, actor, this.now, this.log.at(-1)?.hash ?? null);
    // Frozen states and events: any mutation by decide or evolve throws (ES modules are strict).
    for (const e of events) this.state = deepFreeze(evolve(this.state, deepFreeze(e)));
    this.log.push(...events);
    return events;
  }

  advance(seconds: number): this {
    this.now = new Date(this.now.getTime() + seconds * 1000);
    return this;
  }

  at(ms: number): this {
    this.now = new Date(ms);
    return this;
  }

  /** Runs the time rules at the current time and appends what they produce. */
  tick(): StoredEvent[] {
    return this.append(tick(this.state, this.now, this.config), SYSTEM);
  }

  share(who: PartyWho, fileId: string): StoredEvent[] {
    return this.internal(
      {
        type: 'file.share',
        fileId,
        name: `${fileId}.pdf`,
        size: 10,
        contentType: 'application/pdf',
        sha256: SHA(fileId.at(-1) ?? '0'),
      },
      this.actor(who),
    );
  }

  post(who: PartyWho, text = `hello from ${who}`): number {
    return this.run(who, { type: 'message.post', text })[0]!.seq;
  }

  clone(): Scenario {
    const s = new Scenario(this.config);
    s.state = this.state;
    s.log = [...this.log];
    s.now = new Date(this.now);
    return s;
  }
}

export function expectOk(result: DomainResult, types: string[]): void {
  if (!result.ok)
    expect.fail(`expected ${types.join(', ')}, got ${result.error.code}: ${result.error.message}`);
  expect(result.events.map((e) => e.type)).toEqual(types);
}

export function expectError(result: DomainResult, code: string): void {
  if (result.ok) expect.fail(`expected ${code}, got events ${result.events.map((e) => e.type).join(', ')}`);
  expect(result.error.code).toBe(code);
}

/** Outcome of a decide call as a compact value: the event types, or the error code. */
export function outcome(result: DomainResult): string[] | string {
  return result.ok ? result.events.map((e) => e.type) : result.error.code;
}
