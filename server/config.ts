import { z } from 'zod';
import { heapGrowingPercent } from './heap-growth.js';

/** Every setting comes from the environment; see the README's configuration table. */
const DEV_JWT_SECRET = 'workroom-development-secret-do-not-use-in-production';

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const secondsList = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const parts = v
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const values = parts.map(Number);
    if (parts.length === 0 || values.some((n) => !Number.isInteger(n) || n <= 0)) {
      ctx.addIssue({ code: 'custom', message: 'expected a comma-separated list of positive whole seconds' });
      return z.NEVER;
    }
    return values.sort((a, b) => a - b);
  });

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('./data'),
  MONGODB_URI: optionalText.pipe(z.url({ protocol: /^mongodb(\+srv)?$/ }).optional()),
  MONGODB_WRITE_CONCERN: z
    .union([z.literal(''), z.literal('majority'), z.coerce.number().int().min(1)])
    .optional()
    .transform((v) => (v === '' ? undefined : v)),
  REDIS_URL: optionalText.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
  JWT_SECRET: optionalText,
  JWT_PUBLIC_KEY: optionalText,
  JWT_ISSUER: optionalText,
  JWT_AUDIENCE: optionalText,
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    ),
  RATE_LIMIT_COMMANDS: z.coerce.number().int().min(0).default(60),
  RATE_LIMIT_EVENTS: z.coerce.number().int().min(0).default(300),
  RATE_LIMIT_HISTORY_EVENTS: z.coerce.number().int().min(0).default(100_000),
  MAX_CONNECTIONS_PER_USER: z.coerce.number().int().positive().default(20),
  MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(26_214_400),
  REVIEW_WINDOW_SECONDS: seconds(1_209_600),
  FEEDBACK_WINDOW_SECONDS: seconds(1_209_600),
  INACTIVITY_REMINDERS_SECONDS: secondsList.default([5_184_000, 6_480_000]),
  INACTIVITY_CLOSE_SECONDS: seconds(7_776_000),
  STATUS_REPORT_PERIOD_SECONDS: seconds(604_800),
  SCHEDULER_INTERVAL_MS: z.coerce.number().int().positive().default(1_000),
  COMMIT_BATCHING: z.enum(['on', 'off']).default('on'),
  HEAP_GROWING_PERCENT: heapGrowingPercent,
});

export type Env = z.input<typeof EnvSchema>;

export interface Config {
  port: number;
  host: string;
  env: 'development' | 'production' | 'test';
  logLevel: string;
  dataDir: string;
  mongodbUri: string | undefined;
  /** Unset: `majority` on MongoDB, 1 on the embedded store (see connection.ts). */
  writeConcern: number | 'majority' | undefined;
  redisUrl: string | undefined;
  jwt: {
    algorithm: 'HS256' | 'RS256';
    key: string;
    issuer: string | undefined;
    audience: string | undefined;
  };
  devTokens: boolean;
  corsOrigins: string[];
  rateLimitCommands: number;
  /** Client events other than commands (joins, reads, typing, …) per 10 s per connection. */
  rateLimitEvents: number;
  /** Events of history a user may be sent per 10 s (catch-ups, history pages, exports). */
  rateLimitHistoryEvents: number;
  maxConnectionsPerUser: number;
  maxUploadBytes: number;
  schedulerIntervalMs: number;
  /** Commits of many rooms written together in one insertMany (off: one insert per command). */
  commitBatching: boolean;
  /** How far each heap grows past its live size before a full collection; 0: V8's own choice. */
  heapGrowingPercent: number;
  periods: {
    reviewWindowSeconds: number;
    feedbackWindowSeconds: number;
    inactivityReminderSeconds: number[];
    inactivityCloseSeconds: number;
    statusReportPeriodSeconds: number;
  };
}

export class ConfigError extends Error {}

/** Parses the environment; a bad value fails with one line per problem naming the variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  ${i.path.join('.')}: ${i.message} (got ${JSON.stringify(source[String(i.path[0])])})`,
    );
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.JWT_SECRET && e.JWT_PUBLIC_KEY) {
    throw new ConfigError(
      'Invalid configuration:\n  set JWT_SECRET (HS256) or JWT_PUBLIC_KEY (RS256), not both',
    );
  }
  if (e.NODE_ENV === 'production' && !e.JWT_SECRET && !e.JWT_PUBLIC_KEY) {
    throw new ConfigError(
      'Invalid configuration:\n  NODE_ENV=production requires JWT_SECRET or JWT_PUBLIC_KEY',
    );
  }
  if (e.JWT_SECRET && e.JWT_SECRET.length < 32 && e.NODE_ENV === 'production') {
    throw new ConfigError(
      'Invalid configuration:\n  JWT_SECRET must be at least 32 characters in production',
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    dataDir: e.DATA_DIR,
    mongodbUri: e.MONGODB_URI,
    writeConcern: e.MONGODB_WRITE_CONCERN,
    redisUrl: e.REDIS_URL,
    jwt: e.JWT_PUBLIC_KEY
      ? {
          algorithm: 'RS256',
          key: e.JWT_PUBLIC_KEY.replace(/\\n/g, '\n'),
          issuer: e.JWT_ISSUER,
          audience: e.JWT_AUDIENCE,
        }
      : {
          algorithm: 'HS256',
          key: e.JWT_SECRET ?? DEV_JWT_SECRET,
          issuer: e.JWT_ISSUER,
          audience: e.JWT_AUDIENCE,
        },
    devTokens: e.NODE_ENV !== 'production',
    corsOrigins: e.CORS_ORIGINS,
    rateLimitCommands: e.RATE_LIMIT_COMMANDS,
    rateLimitEvents: e.RATE_LIMIT_EVENTS,
    rateLimitHistoryEvents: e.RATE_LIMIT_HISTORY_EVENTS,
    maxConnectionsPerUser: e.MAX_CONNECTIONS_PER_USER,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    schedulerIntervalMs: e.SCHEDULER_INTERVAL_MS,
    commitBatching: e.COMMIT_BATCHING === 'on',
    heapGrowingPercent: e.HEAP_GROWING_PERCENT,
    periods: {
      reviewWindowSeconds: e.REVIEW_WINDOW_SECONDS,
      feedbackWindowSeconds: e.FEEDBACK_WINDOW_SECONDS,
      inactivityReminderSeconds: e.INACTIVITY_REMINDERS_SECONDS,
      inactivityCloseSeconds: e.INACTIVITY_CLOSE_SECONDS,
      statusReportPeriodSeconds: e.STATUS_REPORT_PERIOD_SECONDS,
    },
  };
}
