import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DomainInvariantError,
  canonicalJson,
  decide,
  emptyRoomState,
  evolve,
  fold,
  MESSAGE_CHUNK,
  messageAt,
  messageList,
  redactState,
  resolveParty,
  visibleTo,
  type StoredEvent,
} from '../../shared/domain/index.js';
import {
  SYSTEM,
  Scenario,
  USERS,
  expectError,
  expectOk,
  fixedTerms,
  hourlyTerms,
  stipendTerms,
} from './helpers.js';
import { canonicalValueArb } from './arbitraries.js';
import type { Terms } from '../../shared/schemas/terms.js';

function hired(terms: Terms = fixedTerms()): Scenario {
  const s = Scenario.created();
  s.run('client', { type: 'terms.propose', terms });
  s.run('freelancer', { type: 'terms.accept', version: 1 });
  return s;
}

describe('parties', () => {
  it('resolves each role and nobody else', () => {
    const s = Scenario.created();
    expect(resolveParty(s.state, USERS.client)).toEqual({ id: 'alice', side: 'client', role: 'client' });
    expect(resolveParty(s.state, USERS.interviewer)).toEqual({
      id: 'dave',
      side: 'client',
      role: 'interviewer',
    });
    expect(resolveParty(s.state, USERS.freelancer)).toEqual({
      id: 'bob',
      side: 'freelancer',
      role: 'freelancer',
    });
    expect(resolveParty(s.state, USERS.agency_manager)).toEqual({
      id: 'carol',
      side: 'freelancer',
      role: 'agency_manager',
      onBehalfOf: 'bob',
    });
    expect(resolveParty(s.state, USERS.outsider)).toBeNull();
    expect(resolveParty(s.state, { id: 'x', agency: { id: 'acme', role: 'member' } })).toBeNull();
    expect(resolveParty(s.state, { id: 'x', agency: { id: 'other', role: 'manager' } })).toBeNull();
    expect(resolveParty(emptyRoomState('r'), USERS.client)).toBeNull();
  });

  it('a principal who is also a manager keeps the principal role', () => {
    const s = Scenario.created();
    expect(resolveParty(s.state, { id: 'bob', agency: { id: 'acme', role: 'manager' } })?.role).toBe(
      'freelancer',
    );
    expect(resolveParty(s.state, { id: 'alice', agency: { id: 'acme', role: 'manager' } })?.role).toBe(
      'client',
    );
  });

  it('managers are parties only once the room knows the agency', () => {
    const s = Scenario.created({ agency: false });
    expect(resolveParty(s.state, USERS.agency_manager)).toBeNull();
    expectError(
      decide(s.state, { type: 'room.assignAgency', agencyId: 'acme' }, s.actor('client'), s.now),
      'FORBIDDEN',
    );
    s.internal({ type: 'room.assignAgency', agencyId: 'acme' }, SYSTEM);
    expect(resolveParty(s.state, USERS.agency_manager)?.role).toBe('agency_manager');
    expectError(decide(s.state, { type: 'room.assignAgency', agencyId: 'acme' }, SYSTEM, s.now), 'CONFLICT');
  });

  it('records the manager acting on behalf of the freelancer', () => {
    const s = Scenario.created();
    s.run('client', { type: 'terms.propose', terms: fixedTerms() });
    const [accepted] = s.run('agency_manager', { type: 'terms.accept', version: 1 });
    expect(accepted?.actor).toEqual({
      id: 'carol',
      side: 'freelancer',
      role: 'agency_manager',
      onBehalfOf: 'bob',
    });
    expect(s.state.phase).toBe('active');
  });

  it('members.add: new interviewers join the client side; principals and existing members are INVALID', () => {
    const s = Scenario.created();
    s.run('client', { type: 'members.add', userIds: ['erin', 'zed'] });
    expect(s.state.interviewerIds).toEqual(['dave', 'erin', 'zed']);
    expect(resolveParty(s.state, { id: 'zed' })).toEqual({ id: 'zed', side: 'client', role: 'interviewer' });
    expectError(s.try('client', { type: 'members.add', userIds: ['dave'] }), 'INVALID');
    expectError(s.try('client', { type: 'members.add', userIds: ['new', 'erin'] }), 'INVALID');
    expectError(s.try('client', { type: 'members.add', userIds: ['bob'] }), 'INVALID');
    expectError(s.try('client', { type: 'members.add', userIds: ['alice'] }), 'INVALID');
  });
});

describe('room creation and files', () => {
  it('room.create runs on the empty state only, by its client', () => {
    const empty = emptyRoomState('r1');
    const client = { id: 'alice', side: 'client', role: 'client' } as const;
    const cmd = { type: 'room.create', title: 'T', clientId: 'alice', freelancerId: 'bob' } as const;
    const ok = decide(empty, cmd, client, new Date());
    expectOk(ok, ['room.created']);
    expectError(decide(empty, { ...cmd, freelancerId: 'alice' }, client, new Date()), 'INVALID');
    expectError(decide(empty, { ...cmd, interviewerIds: ['bob'] }, client, new Date()), 'INVALID');
    expectError(decide(empty, cmd, { ...client, id: 'mallory' }, new Date()), 'FORBIDDEN');
    expectError(decide(empty, { type: 'message.post', text: 'x' }, client, new Date()), 'NOT_FOUND');
    const s = Scenario.created();
    expectError(decide(s.state, { ...cmd }, client, s.now), 'CONFLICT');
    expect(s.state).toMatchObject({
      id: 'room-1',
      phase: 'interview',
      jobId: 'job-1',
      agencyId: 'acme',
      seq: 1,
    });
  });

  it('files: shared once, referenced only within their room, frozen by hash in submissions', () => {
    const s = hired();
    s.share('freelancer', 'f1');
    expectError(
      decide(
        s.state,
        { type: 'file.share', fileId: 'f1', name: 'x', size: 1, contentType: 'a/b', sha256: 'a'.repeat(64) },
        s.actor('client'),
        s.now,
      ),
      'CONFLICT',
    );
    s.run('client', { type: 'milestone.fund', milestoneId: 'm1' });
    const [submitted] = s.run('freelancer', {
      type: 'milestone.submit',
      milestoneId: 'm1',
      note: 'n',
      fileIds: ['f1'],
    });
    expect(submitted?.data).toEqual({
      milestoneId: 'm1',
      note: 'n',
      files: [{ id: 'f1', name: 'f1.pdf', sha256: '1'.repeat(64) }],
    });
    expect(s.state.milestones[0]?.submissions[0]?.files[0]?.sha256).toBe('1'.repeat(64));
    // Ids that are not own properties (e.g. inherited from Object.prototype) are not files.
    expectError(s.try('client', { type: 'message.post', text: 'x', fileIds: ['constructor'] }), 'INVALID');
    s.run('client', { type: 'contract.end' });
    expectError(
      decide(
        s.state,
        { type: 'file.share', fileId: 'f9', name: 'x', size: 1, contentType: 'a/b', sha256: 'a'.repeat(64) },
        s.actor('client'),
        s.now,
      ),
      'CONFLICT',
    );
  });

  it('messages: a long room keeps every message across its chunks, and earlier states stay as they were', () => {
    const s = Scenario.created();
    const seqs = Array.from({ length: 300 }, (_, i) => s.post(i % 2 ? 'client' : 'freelancer'));
    const before = s.state;
    for (const seq of [MESSAGE_CHUNK - 1, MESSAGE_CHUNK, 2 * MESSAGE_CHUNK])
      s.run(seq % 2 ? 'client' : 'freelancer', { type: 'message.edit', seq, text: 'edited' });
    s.run(seqs[0]! % 2 ? 'client' : 'freelancer', { type: 'message.delete', seq: seqs[0]! });
    expect(messageList(s.state.messages).map((m) => m.seq)).toEqual(seqs);
    expect(
      messageList(s.state.messages)
        .filter((m) => m.edited)
        .map((m) => m.seq),
    ).toEqual([MESSAGE_CHUNK - 1, MESSAGE_CHUNK, 2 * MESSAGE_CHUNK]);
    expect(messageAt(s.state.messages, seqs[0]!)?.deleted).toBe(true);
    expect(messageAt(before.messages, MESSAGE_CHUNK)?.edited).toBe(false);
    expect(messageAt(before.messages, seqs[0]!)?.deleted).toBe(false);
    expect(messageAt(s.state.messages, 1)).toBeUndefined();
    expect(messageAt(s.state.messages, 10_000)).toBeUndefined();
    // Chunks are keyed by small offsets, which objects copy cheaply (not by seqs in the hundreds).
    for (const chunk of Object.values(s.state.messages))
      expect(Object.keys(chunk).every((k) => Number(k) < MESSAGE_CHUNK)).toBe(true);
  });

  it('messages: edits and deletes are kept as events, deleted ones cannot change again', () => {
    const s = Scenario.created();
    const seq = s.post('interviewer');
    s.run('interviewer', { type: 'message.edit', seq, text: 'better' });
    expect(messageAt(s.state.messages, seq)).toMatchObject({
      authorId: 'dave',
      edited: true,
      deleted: false,
    });
    s.run('interviewer', { type: 'message.delete', seq });
    expectError(s.try('interviewer', { type: 'message.edit', seq, text: 'again' }), 'CONFLICT');
    expectError(s.try('interviewer', { type: 'message.delete', seq }), 'CONFLICT');
    // A seq that is not a message (room.created is seq 1).
    expectError(s.try('client', { type: 'message.edit', seq: 1, text: 'x' }), 'NOT_FOUND');
  });
});

describe('terms and phases', () => {
  it('interview → offer → (decline) interview → offer → (withdraw) interview, versions 1, 2, 3 …', () => {
    const s = Scenario.created();
    s.run('client', { type: 'terms.propose', terms: fixedTerms() });
    expect(s.state.phase).toBe('offer');
    s.run('freelancer', { type: 'terms.decline', version: 1, reason: 'too low' });
    expect(s.state.phase).toBe('interview');
    expect(s.state.proposals[0]?.status).toBe('declined');
    s.run('interviewer', { type: 'terms.propose', terms: hourlyTerms });
    expect(s.state.openProposalVersion).toBe(2);
    s.run('client', { type: 'terms.withdraw', version: 2 });
    expect(s.state.phase).toBe('interview');
    expect(s.state.proposals.map((p) => p.status)).toEqual(['declined', 'withdrawn']);
    s.run('client', { type: 'terms.propose', terms: stipendTerms });
    expect(s.state.proposals.map((p) => p.version)).toEqual([1, 2, 3]);
  });

  it('counters go back and forth in offer until one side accepts; acceptance hires', () => {
    const s = Scenario.created();
    s.run('client', { type: 'terms.propose', terms: fixedTerms([100]) });
    const [counter] = s.run('freelancer', { type: 'terms.propose', terms: fixedTerms([300]) });
    expect(counter?.data).toMatchObject({ version: 2, supersedes: 1 });
    s.run('interviewer', { type: 'terms.propose', terms: fixedTerms([200]) });
    expect(s.state.proposals.map((p) => p.status)).toEqual(['countered', 'countered', 'open']);
    expect(s.state.phase).toBe('offer');
    const events = s.run('agency_manager', { type: 'terms.accept', version: 3 });
    expect(events.map((e) => e.type)).toEqual(['terms.accepted', 'contract.started']);
    expect(s.state.phase).toBe('active');
    expect(s.state.termsInForce?.version).toBe(3);
    expect(s.state.startedAt).toBe(s.now.toISOString());
    expect(s.state.milestones.map((m) => [m.id, m.amount, m.status])).toEqual([['m1', 200, 'pending']]);
  });

  it('amendments: old terms stand until accepted; accept appends terms.accepted only', () => {
    const s = hired(fixedTerms([100, 200]));
    s.run('client', { type: 'milestone.fund', milestoneId: 'm1' });
    s.run('freelancer', { type: 'terms.propose', terms: fixedTerms([100, 250, 300]) });
    expect(s.state.termsInForce?.version).toBe(1);
    expect(s.state.milestones.map((m) => m.amount)).toEqual([100, 200]);
    const events = s.run('client', { type: 'terms.accept', version: 2 });
    expect(events.map((e) => e.type)).toEqual(['terms.accepted']);
    expect(s.state.phase).toBe('active');
    expect(s.state.milestones.map((m) => [m.id, m.amount, m.status])).toEqual([
      ['m1', 100, 'funded'],
      ['m2', 250, 'pending'],
      ['m3', 300, 'pending'],
    ]);
  });

  it('amendment safety: funded keeps its amount but may be renamed; submitted/released cannot change at all', () => {
    const s = hired(fixedTerms([100, 200, 300]));
    for (const id of ['m1', 'm2', 'm3']) s.run('client', { type: 'milestone.fund', milestoneId: id });
    s.run('freelancer', { type: 'milestone.submit', milestoneId: 'm2', note: 'n' });
    s.run('freelancer', { type: 'milestone.submit', milestoneId: 'm3', note: 'n' });
    s.run('client', { type: 'milestone.release', milestoneId: 'm3' });
    const base = fixedTerms([100, 200, 300]);
    const withMilestones = (ms: typeof base.milestones) => ({ ...base, milestones: ms });
    const [m1, m2, m3] = base.milestones as [
      (typeof base.milestones)[0],
      (typeof base.milestones)[0],
      (typeof base.milestones)[0],
    ];
    const propose = (terms: typeof base) => s.try('freelancer', { type: 'terms.propose', terms });
    expectOk(propose(withMilestones([{ ...m1, title: 'Renamed', dueDate: '2030-02-01' }, m2, m3])), [
      'terms.proposed',
    ]);
    expectError(propose(withMilestones([{ ...m1, amount: 150 }, m2, m3])), 'CONFLICT');
    expectError(propose(withMilestones([m2, m3])), 'CONFLICT');
    expectError(propose(withMilestones([m1, { ...m2, title: 'x' }, m3])), 'CONFLICT');
    expectError(propose(withMilestones([m1, m2, { ...m3, dueDate: '2030-01-01' }])), 'CONFLICT');
    expectError(propose(withMilestones([m1, m2])), 'CONFLICT');
    expectError(propose({ ...base, currency: 'EUR' }), 'CONFLICT');
    expectError(s.try('freelancer', { type: 'terms.propose', terms: hourlyTerms }), 'CONFLICT');
  });

  it('switching kind away from fixed is fine while every milestone is pending', () => {
    const s = hired(fixedTerms([100, 200]));
    s.run('client', { type: 'terms.propose', terms: hourlyTerms });
    s.run('agency_manager', { type: 'terms.accept', version: 2 });
    expect(s.state.milestones).toEqual([]);
    expect(s.state.termsInForce?.terms.kind).toBe('hourly');
  });

  it('amendment safety is checked again at acceptance', () => {
    const s = hired(fixedTerms([100, 200]));
    s.run('freelancer', { type: 'terms.propose', terms: fixedTerms([150, 200]) }); // m1 pending: fine now
    s.run('client', { type: 'milestone.fund', milestoneId: 'm1' }); // … but then funded
    expectError(s.try('client', { type: 'terms.accept', version: 2 }), 'CONFLICT');
    s.run('client', { type: 'terms.decline', version: 2 });
    expect(s.state.phase).toBe('active');
  });

  it('the author side cannot propose again while its proposal is open; the other side may counter', () => {
    const s = hired();
    s.run('client', { type: 'terms.propose', terms: fixedTerms([1000, 2000, 3000, 4000]) });
    expectError(s.try('interviewer', { type: 'terms.propose', terms: fixedTerms() }), 'CONFLICT');
    s.run('freelancer', { type: 'terms.propose', terms: fixedTerms([1000, 2000, 3500]) });
    expect(s.state.proposals.map((p) => p.status)).toEqual(['accepted', 'countered', 'open']);
  });
});

describe('milestones', () => {
  it('pending → funded → submitted → changes_requested → submitted → released', () => {
    const s = hired(fixedTerms([500]));
    const [funded] = s.run('interviewer', { type: 'milestone.fund', milestoneId: 'm1' });
    expect(funded?.data).toEqual({ milestoneId: 'm1', amount: 500, currency: 'USD' });
    s.run('freelancer', { type: 'milestone.submit', milestoneId: 'm1', note: 'v1' });
    s.run('client', { type: 'milestone.requestChanges', milestoneId: 'm1', note: 'fix' });
    s.advance(10);
    s.run('freelancer', { type: 'milestone.submit', milestoneId: 'm1', note: 'v2' });
    const [released] = s.run('client', { type: 'milestone.release', milestoneId: 'm1' });
    expect(released?.data).toEqual({ milestoneId: 'm1', amount: 500, auto: false });
    const m = s.state.milestones[0]!;
    expect(m).toMatchObject({
      status: 'released',
      fundedAmount: 500,
      autoReleased: false,
      submittedAt: s.now.toISOString(),
    });
    expect(m.submissions.map((x) => x.note)).toEqual(['v1', 'v2']);
    expect(m.changeRequests.map((x) => x.note)).toEqual(['fix']);
  });
});

describe('contract end and feedback', () => {
  it('ends by a principal; an open amendment expires', () => {
    const s = hired();
    s.run('freelancer', { type: 'terms.propose', terms: fixedTerms([1000, 2000, 3000, 4000]) });
    const [ended] = s.run('freelancer', { type: 'contract.end', reason: 'moving on' });
    expect(ended?.data).toEqual({ by: 'freelancer', reason: 'moving on' });
    expect(s.state).toMatchObject({
      phase: 'ended',
      endedBy: 'freelancer',
      endReason: 'moving on',
      openProposalVersion: null,
    });
    expect(s.state.proposals[1]?.status).toBe('expired');
  });

  it('double-blind: submitted is for its author only; the second submission reveals both public parts', () => {
    const s = hired();
    s.run('client', { type: 'contract.end' });
    const [mine] = s.run('client', {
      type: 'feedback.submit',
      public: { rating: 4, comment: 'good' },
      private: { score: 8, note: 'secret-client' },
    });
    expect(mine?.audience).toEqual({ kind: 'user', userId: 'alice' });
    for (const who of ['interviewer', 'freelancer', 'agency_manager'] as const) {
      expect(visibleTo(mine!, s.actor(who))).toBe(false);
      expect(redactState(s.state, s.actor(who)).feedback).toEqual({ client: null, freelancer: null });
    }
    expect(redactState(s.state, s.actor('client')).feedback.client?.private.note).toBe('secret-client');
    expectError(
      s.try('client', { type: 'feedback.submit', public: { rating: 1, comment: '' }, private: { score: 0 } }),
      'CONFLICT',
    );
    const events = s.run('freelancer', {
      type: 'feedback.submit',
      public: { rating: 5, comment: 'fair' },
      private: { score: 10 },
    });
    expect(events.map((e) => e.type)).toEqual(['feedback.submitted', 'feedback.revealed']);
    expect(events[1]?.data).toEqual({
      client: { rating: 4, comment: 'good' },
      freelancer: { rating: 5, comment: 'fair' },
      auto: false,
    });
    expect(JSON.stringify(events[1])).not.toContain('secret');
    expect(redactState(s.state, s.actor('freelancer')).revealed).toMatchObject({
      client: { rating: 4, comment: 'good' },
      freelancer: { rating: 5, comment: 'fair' },
    });
    expect(JSON.stringify(redactState(s.state, s.actor('freelancer')))).not.toContain('secret-client');
  });

  it('feedback closes with its window (given the config) or once revealed', () => {
    const s = hired();
    s.run('client', { type: 'contract.end' });
    s.advance(s.config.feedbackWindowSeconds);
    expectError(
      s.try('client', { type: 'feedback.submit', public: { rating: 4, comment: '' }, private: { score: 1 } }),
      'CONFLICT',
    );
    // Without the config, the reveal by the time rules closes it.
    const cmd = {
      type: 'feedback.submit',
      public: { rating: 4, comment: '' },
      private: { score: 1 },
    } as const;
    expectOk(decide(s.state, cmd, s.actor('client'), s.now), ['feedback.submitted']);
    s.tick();
    expectError(decide(s.state, cmd, s.actor('client'), s.now), 'CONFLICT');
  });
});

describe('evolve and fold', () => {
  it('rejects an event that cannot apply (a corrupt log)', () => {
    const s = Scenario.created();
    s.post('client');
    const [first, second] = s.log as [StoredEvent, StoredEvent];
    expect(() => evolve(s.state, { ...second, seq: 5 })).toThrow(DomainInvariantError);
    expect(() => evolve(s.state, { ...first, seq: 3 })).toThrow(DomainInvariantError);
    expect(() => evolve(emptyRoomState('room-1'), second)).toThrow(DomainInvariantError);
    const bogusAccept = { ...second, seq: 3, type: 'terms.accepted', data: { version: 1 } } as StoredEvent;
    expect(() => evolve(s.state, bogusAccept)).toThrow(DomainInvariantError);
    const unknown = { ...second, seq: 3, type: 'toString', data: {} } as unknown as StoredEvent;
    expect(() => evolve(s.state, unknown)).toThrow(DomainInvariantError);
  });

  it('fold without a starting state takes the room id from room.created', () => {
    const s = hired();
    expect(fold(s.log)).toEqual(s.state);
    expect(fold(s.log).id).toBe('room-1');
  });

  it('activity is any event not appended by the system', () => {
    const s = hired();
    const started = s.state.lastActivityAt;
    s.advance(s.config.reviewWindowSeconds + 1);
    s.tick();
    expect(s.state.lastActivityAt).toBe(started);
    s.post('interviewer');
    expect(s.state.lastActivityAt).toBe(s.now.toISOString());
    void SYSTEM;
  });
});

/** The encoding by its definition, written the plain way: what canonicalJson must match. */
function referenceCanonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
    return referenceCanonical((value as { toJSON: () => unknown }).toJSON());
  if (Array.isArray(value))
    return `[${value.map((v: unknown) => (v === undefined ? 'null' : referenceCanonical(v))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .sort()
    .filter((k) => record[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${referenceCanonical(record[k])}`);
  return `{${members.join(',')}}`;
}

describe('canonicalJson', () => {
  it('matches the plain definition on arbitrary values, integer-like keys and dates included', () => {
    const key = fc.oneof(fc.string(), fc.constantFrom('0', '1', '10', '9', '01', 'a', 'B', 'é', '_'));
    fc.assert(
      fc.property(canonicalValueArb(fc.string(), key), (v) => {
        expect(canonicalJson(v)).toBe(referenceCanonical(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('sorts keys at every depth, drops undefined members, keeps arrays in order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"z":1}]},"b":1}',
    );
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
    expect(canonicalJson([undefined, null, true, 'é"'])).toBe('[null,null,true,"é\\""]');
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ a: 1n })).toThrow(TypeError);
  });
});
