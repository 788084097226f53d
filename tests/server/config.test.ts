import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.js';

describe('configuration from the environment', () => {
  it('has working defaults on a bare machine', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.mongodbUri).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.maxUploadBytes).toBe(26_214_400);
    expect(config.rateLimitCommands).toBe(60);
    expect(config.rateLimitEvents).toBe(300);
    expect(config.rateLimitHistoryEvents).toBe(100_000);
    expect(config.heapGrowingPercent).toBe(200);
    expect(config.periods).toEqual({
      reviewWindowSeconds: 1_209_600,
      feedbackWindowSeconds: 1_209_600,
      inactivityReminderSeconds: [5_184_000, 6_480_000],
      inactivityCloseSeconds: 7_776_000,
      statusReportPeriodSeconds: 604_800,
    });
    expect(config.devTokens).toBe(true);
    expect(config.jwt.algorithm).toBe('HS256');
  });

  it('reads every documented variable', () => {
    const config = loadConfig({
      PORT: '4100',
      DATA_DIR: '/tmp/wr',
      MONGODB_URI: 'mongodb://127.0.0.1:27017/workroom',
      REDIS_URL: 'redis://127.0.0.1:6379',
      JWT_SECRET: 'x'.repeat(40),
      JWT_ISSUER: 'platform',
      JWT_AUDIENCE: 'workroom',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      RATE_LIMIT_COMMANDS: '0',
      RATE_LIMIT_EVENTS: '25',
      RATE_LIMIT_HISTORY_EVENTS: '1000',
      MAX_UPLOAD_BYTES: '1024',
      REVIEW_WINDOW_SECONDS: '5',
      FEEDBACK_WINDOW_SECONDS: '6',
      INACTIVITY_REMINDERS_SECONDS: '9,3',
      INACTIVITY_CLOSE_SECONDS: '12',
      STATUS_REPORT_PERIOD_SECONDS: '7',
      HEAP_GROWING_PERCENT: '0',
    });
    expect(config.port).toBe(4100);
    expect(config.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.rateLimitCommands).toBe(0);
    expect(config.rateLimitEvents).toBe(25);
    expect(config.rateLimitHistoryEvents).toBe(1000);
    expect(config.heapGrowingPercent).toBe(0);
    expect(config.periods.inactivityReminderSeconds).toEqual([3, 9]);
    expect(config.jwt).toMatchObject({ algorithm: 'HS256', issuer: 'platform', audience: 'workroom' });
  });

  it('names the variable and the value that is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT.*"eighty"/);
    expect(() => loadConfig({ INACTIVITY_REMINDERS_SECONDS: '10,-1' })).toThrow(
      /INACTIVITY_REMINDERS_SECONDS/,
    );
    expect(() => loadConfig({ MONGODB_URI: 'http://x' })).toThrow(/MONGODB_URI/);
    expect(() => loadConfig({ HEAP_GROWING_PERCENT: '-50' })).toThrow(/HEAP_GROWING_PERCENT.*"-50"/);
  });

  it('refuses to run in production without a real signing key, and has no dev tokens there', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET or JWT_PUBLIC_KEY/);
    const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(48) });
    expect(config.devTokens).toBe(false);
  });

  it('uses RS256 when a public key is given', () => {
    const config = loadConfig({
      JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\\nabc\\n-----END PUBLIC KEY-----',
    });
    expect(config.jwt.algorithm).toBe('RS256');
    expect(config.jwt.key).toContain('\nabc\n');
  });
});
