import { describe, expect, it } from 'vitest';
import { nextDeadline, tick } from '../../shared/domain/index.js';
import { Scenario, T0, fixedTerms, hourlyTerms } from './helpers.js';
import type { Terms } from '../../shared/schemas/terms.js';

function hired(terms: Terms = fixedTerms([100, 200])): Scenario {
  const s = Scenario.created();
  s.run('client', { type: 'terms.propose', terms });
  s.run('freelancer', { type: 'terms.accept', version: 1 });
  return s;
}

const types = (s: Scenario) => tick(s.state, s.now, s.config).map((e) => e.type);

describe('time rules', () => {
  it('auto-releases a submitted milestone when the review window closes, once', () => {
    const s = hired();
    s.run('client', { type: 'milestone.fund', milestoneId: 'm1' });
    s.advance(5);
    s.run('freelancer', { type: 'milestone.submit', milestoneId: 'm1', note: 'n' });
    const submittedAt = s.now.getTime();
    expect(nextDeadline(s.state, s.config)?.getTime()).toBe(submittedAt + 100_000);
    s.at(submittedAt + 99_999);
    expect(types(s)).toEqual([]);
    s.at(submittedAt + 100_000);
    const [released] = s.tick();
    expect(released).toMatchObject({
      type: 'milestone.released',
      data: { milestoneId: 'm1', amount: 100, auto: true },
    });
    expect(released?.actor.side).toBe('system');
    expect(s.state.milestones[0]).toMatchObject({ status: 'released', autoReleased: true });
    expect(types(s)).toEqual([]);
  });

  it('a new submission after changes requested restarts the review window', () => {
    const s = hired();
    s.run('client', { type: 'milestone.fund', milestoneId: 'm1' });
    s.run('freelancer', { type: 'milestone.submit', milestoneId: 'm1', note: 'n' });
    s.advance(50);
    s.run('client', { type: 'milestone.requestChanges', milestoneId: 'm1', note: 'more' });
    s.advance(60);
    expect(types(s)).toEqual([]);
    s.run('freelancer', { type: 'milestone.submit', milestoneId: 'm1', note: 'n2' });
    s.advance(99);
    expect(types(s)).toEqual([]);
    s.advance(1);
    expect(types(s)).toEqual(['milestone.released']);
  });

  it('still auto-releases delivered work after the contract ended', () => {
    const s = hired();
    s.run('client', { type: 'milestone.fund', milestoneId: 'm1' });
    s.run('freelancer', { type: 'milestone.submit', milestoneId: 'm1', note: 'n' });
    s.run('client', { type: 'contract.end' });
    s.advance(100);
    expect(types(s)).toEqual(['milestone.released']);
  });

  it('reveals feedback when the window closes, with whatever public parts exist, once', () => {
    const s = hired();
    s.run('client', { type: 'contract.end' });
    const endedAt = s.now.getTime();
    s.run('freelancer', {
      type: 'feedback.submit',
      public: { rating: 3, comment: 'ok' },
      private: { score: 5, note: 'p' },
    });
    expect(nextDeadline(s.state, s.config)?.getTime()).toBe(endedAt + 200_000);
    s.at(endedAt + 199_999);
    expect(types(s)).toEqual([]);
    s.at(endedAt + 200_000);
    const [revealed] = s.tick();
    expect(revealed).toMatchObject({
      type: 'feedback.revealed',
      audience: { kind: 'all' },
      data: { client: null, freelancer: { rating: 3, comment: 'ok' }, auto: true },
    });
    expect(JSON.stringify(revealed)).not.toContain('"score"');
    expect(types(s)).toEqual([]);
    expect(nextDeadline(s.state, s.config)).toBeNull();
  });

  it('reveals an empty result when nobody submitted', () => {
    const s = hired();
    s.run('freelancer', { type: 'contract.end' });
    s.advance(200);
    expect(s.tick()[0]?.data).toEqual({ client: null, freelancer: null, auto: true });
  });

  it('no reveal by the time rules after both submitted', () => {
    const s = hired();
    s.run('client', { type: 'contract.end' });
    s.run('client', { type: 'feedback.submit', public: { rating: 3, comment: '' }, private: { score: 5 } });
    s.run('freelancer', {
      type: 'feedback.submit',
      public: { rating: 3, comment: '' },
      private: { score: 5 },
    });
    s.advance(10_000);
    expect(types(s)).toEqual([]);
    expect(nextDeadline(s.state, s.config)).toBeNull();
  });

  it('reminds the client side of inactivity once per threshold, then closes the contract', () => {
    const s = hired(hourlyTerms);
    const config = { ...s.config, statusReportPeriodSeconds: 0 };
    const start = s.now.getTime();
    expect(nextDeadline(s.state, config)?.getTime()).toBe(start + 1_000_000);
    s.at(start + 999_999);
    expect(tick(s.state, s.now, config)).toEqual([]);
    s.at(start + 1_000_000);
    const first = tick(s.state, s.now, config);
    expect(first).toEqual([
      {
        type: 'reminder.inactivity',
        audience: { kind: 'side', side: 'client' },
        data: {
          reminder: 1,
          thresholdSeconds: 1000,
          elapsedSeconds: 1000,
          lastActivityAt: new Date(start).toISOString(),
          closesAt: new Date(start + 3_000_000).toISOString(),
        },
      },
    ]);
    s.append(first, { id: 'system', side: 'system', role: 'system' });
    expect(tick(s.state, new Date(start + 1_500_000), config)).toEqual([]);
    expect(nextDeadline(s.state, config)?.getTime()).toBe(start + 2_000_000);
    s.at(start + 2_000_000);
    const second = tick(s.state, s.now, config);
    expect(second.map((e) => [e.type, (e.data as { reminder: number }).reminder])).toEqual([
      ['reminder.inactivity', 2],
    ]);
    s.append(second, { id: 'system', side: 'system', role: 'system' });
    expect(nextDeadline(s.state, config)?.getTime()).toBe(start + 3_000_000);
    s.at(start + 3_000_000);
    const closing = tick(s.state, s.now, config);
    expect(closing).toEqual([
      { type: 'contract.ended', audience: { kind: 'all' }, data: { by: 'system', reason: 'inactivity' } },
    ]);
    s.append(closing, { id: 'system', side: 'system', role: 'system' });
    expect(s.state).toMatchObject({ phase: 'ended', endedBy: 'system', endReason: 'inactivity' });
  });

  it('activity resets the inactivity clock and its reminders', () => {
    const s = hired(hourlyTerms);
    const config = { ...s.config, statusReportPeriodSeconds: 0 };
    s.advance(1000);
    s.append(tick(s.state, s.now, config), { id: 'system', side: 'system', role: 'system' });
    expect(s.state.remindersSent.inactivity).toBe(1);
    s.post('freelancer');
    expect(s.state.remindersSent.inactivity).toBe(0);
    expect(nextDeadline(s.state, config)?.getTime()).toBe(s.now.getTime() + 1_000_000);
  });

  it('a long outage sends each missed reminder once and closes', () => {
    const s = hired(hourlyTerms);
    const config = { ...s.config, statusReportPeriodSeconds: 0 };
    s.advance(5000);
    expect(tick(s.state, s.now, config).map((e) => e.type)).toEqual([
      'reminder.inactivity',
      'reminder.inactivity',
      'contract.ended',
    ]);
  });

  it('reminds the freelancer side of a due status report once per period', () => {
    const s = hired(hourlyTerms);
    const start = s.now.getTime();
    expect(nextDeadline(s.state, s.config)?.getTime()).toBe(start + 500_000);
    s.at(start + 499_999);
    expect(types(s)).toEqual([]);
    s.at(start + 500_000);
    const [reminder] = s.tick();
    expect(reminder).toMatchObject({
      type: 'reminder.statusReport',
      audience: { kind: 'side', side: 'freelancer' },
      data: { dueAt: new Date(start + 500_000).toISOString(), period: 1 },
    });
    s.advance(100);
    expect(types(s)).toEqual([]);
    expect(nextDeadline(s.state, s.config)?.getTime()).toBe(start + 1_000_000);
    // Filing a report moves the next due date to a period after it.
    s.run('freelancer', {
      type: 'statusReport.submit',
      periodStart: '2030-01-01',
      periodEnd: '2030-01-07',
      summary: 's',
      hours: 3,
      progress: [],
    });
    expect(s.state.remindersSent.statusReport).toBe(0);
    expect(nextDeadline(s.state, s.config)?.getTime()).toBe(s.now.getTime() + 500_000);
  });

  it('has nothing to do before a contract or without one', () => {
    const s = Scenario.created();
    expect(nextDeadline(s.state, s.config)).toBeNull();
    expect(tick(s.state, new Date(T0 + 10 ** 12), s.config)).toEqual([]);
  });
});
