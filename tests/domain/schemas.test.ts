import { describe, expect, it } from 'vitest';
import {
  CommandSchema,
  CreateRoomBodySchema,
  ERROR_STATUS,
  EVENT_TYPES,
  EventsQuerySchema,
  RoomCommandPayloadSchema,
  RoomEventSchema,
  RoomStateSchema,
  StoredEventSchema,
  TermsSchema,
  errorResponse,
} from '../../shared/schemas/index.js';
import { Scenario, fixedTerms } from './helpers.js';

const ok = (schema: { safeParse: (v: unknown) => { success: boolean } }, value: unknown) =>
  schema.safeParse(value).success;

describe('wire schemas', () => {
  it('commands are strict objects with size caps', () => {
    expect(ok(CommandSchema, { type: 'message.post', text: 'hi' })).toBe(true);
    expect(ok(CommandSchema, { type: 'message.post', text: 'hi', extra: 1 })).toBe(false);
    expect(ok(CommandSchema, { type: 'message.post', text: '' })).toBe(false);
    expect(ok(CommandSchema, { type: 'message.post', text: '   ' })).toBe(false);
    expect(ok(CommandSchema, { type: 'message.post', text: 'x'.repeat(10_000) })).toBe(true);
    expect(ok(CommandSchema, { type: 'message.post', text: 'x'.repeat(10_001) })).toBe(false);
    expect(
      ok(CommandSchema, {
        type: 'message.post',
        text: 'x',
        fileIds: Array.from({ length: 21 }, (_, i) => `f${i}`),
      }),
    ).toBe(false);
    expect(ok(CommandSchema, { type: 'message.post', text: 'x', fileIds: ['a', 'a'] })).toBe(false);
    expect(ok(CommandSchema, { type: 'room.create', title: 'x', clientId: 'a', freelancerId: 'b' })).toBe(
      false,
    );
    expect(ok(CommandSchema, { type: 'nope' })).toBe(false);
    expect(ok(CommandSchema, { type: 'terms.accept', version: 1.5 })).toBe(false);
    expect(
      ok(CommandSchema, {
        type: 'feedback.submit',
        public: { rating: 6, comment: '' },
        private: { score: 1 },
      }),
    ).toBe(false);
    expect(
      ok(CommandSchema, {
        type: 'feedback.submit',
        public: { rating: 5, comment: '' },
        private: { score: 11 },
      }),
    ).toBe(false);
    expect(
      ok(CommandSchema, {
        type: 'feedback.submit',
        public: { rating: 5, comment: '' },
        private: { score: 10 },
      }),
    ).toBe(true);
    const report = {
      type: 'statusReport.submit',
      periodStart: '2030-01-02',
      periodEnd: '2030-01-01',
      summary: 's',
      hours: 1,
      progress: [],
    };
    expect(ok(CommandSchema, report)).toBe(false);
    expect(ok(CommandSchema, { ...report, periodEnd: '2030-01-02T10:00:00Z' })).toBe(true);
    expect(ok(CommandSchema, { ...report, periodEnd: '2030-01-03', hours: -1 })).toBe(false);
    expect(
      ok(CommandSchema, {
        ...report,
        periodEnd: '2030-01-03',
        progress: [{ milestoneId: 'm1', percent: 101 }],
      }),
    ).toBe(false);
  });

  it('terms: each kind carries its own fields only; money is positive integer minor units', () => {
    expect(ok(TermsSchema, fixedTerms())).toBe(true);
    expect(ok(TermsSchema, { kind: 'fixed', currency: 'USD', milestones: [] })).toBe(false);
    expect(ok(TermsSchema, { ...fixedTerms(), currency: 'usd' })).toBe(false);
    expect(ok(TermsSchema, { ...fixedTerms(), hourlyRate: 5 })).toBe(false);
    expect(ok(TermsSchema, fixedTerms([10.5]))).toBe(false);
    expect(ok(TermsSchema, fixedTerms([0]))).toBe(false);
    expect(
      ok(TermsSchema, {
        kind: 'fixed',
        currency: 'USD',
        milestones: [
          { id: 'a', title: 't', amount: 1 },
          { id: 'a', title: 'u', amount: 2 },
        ],
      }),
    ).toBe(false);
    expect(ok(TermsSchema, fixedTerms(Array.from({ length: 101 }, () => 1)))).toBe(false);
    expect(ok(TermsSchema, { kind: 'hourly', currency: 'USD', hourlyRate: 100, weeklyLimitHours: 40 })).toBe(
      true,
    );
    expect(ok(TermsSchema, { kind: 'hourly', currency: 'USD', hourlyRate: 100 })).toBe(false);
    expect(ok(TermsSchema, { kind: 'stipend', currency: 'EUR', weeklyAmount: 100, milestones: [] })).toBe(
      false,
    );
  });

  it('socket and HTTP inputs', () => {
    const clientId = '123e4567-e89b-42d3-a456-426614174000';
    expect(ok(RoomCommandPayloadSchema, { roomId: 'r1', clientId, command: { type: 'contract.end' } })).toBe(
      true,
    );
    expect(
      ok(RoomCommandPayloadSchema, { roomId: 'r1', clientId: 'nope', command: { type: 'contract.end' } }),
    ).toBe(false);
    expect(ok(CreateRoomBodySchema, { title: 'T', freelancerId: 'bob' })).toBe(true);
    expect(ok(CreateRoomBodySchema, { title: 'T', freelancerId: 'bob', clientId: 'x' })).toBe(false);
    expect(EventsQuerySchema.parse({})).toEqual({ after: 0, limit: 500 });
    expect(EventsQuerySchema.parse({ after: '3', limit: '20' })).toEqual({ after: 3, limit: 20 });
    expect(ok(EventsQuerySchema, { limit: '501' })).toBe(false);
    expect(ok(EventsQuerySchema, { after: '-1' })).toBe(false);
  });

  it('errors carry the protocol codes and statuses', () => {
    expect(ERROR_STATUS).toMatchObject({
      UNAUTHENTICATED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      INVALID: 400,
      CONFLICT: 409,
      TOO_LARGE: 413,
      RATE_LIMITED: 429,
      INTERNAL: 500,
    });
    expect(errorResponse('CONFLICT', 'no')).toEqual({
      ok: false,
      error: { code: 'CONFLICT', message: 'no' },
    });
  });

  it('every event decide produces is a valid wire event, and the state is a valid RoomState', () => {
    const s = Scenario.created();
    s.share('client', 'f1');
    s.post('client');
    s.run('client', { type: 'terms.propose', terms: fixedTerms() });
    s.run('freelancer', { type: 'terms.accept', version: 1 });
    s.run('client', { type: 'milestone.fund', milestoneId: 'm1' });
    s.run('freelancer', { type: 'milestone.submit', milestoneId: 'm1', note: 'n', fileIds: ['f1'] });
    s.run('client', { type: 'contract.end' });
    s.run('client', { type: 'feedback.submit', public: { rating: 5, comment: '' }, private: { score: 1 } });
    for (const e of s.log) {
      expect(RoomEventSchema.safeParse(e).error).toBeUndefined();
      expect(StoredEventSchema.safeParse(e).error).toBeUndefined();
    }
    expect(RoomStateSchema.safeParse(JSON.parse(JSON.stringify(s.state))).error).toBeUndefined();
    expect(EVENT_TYPES.length).toBe(RoomEventSchema.options.length);
  });
});
