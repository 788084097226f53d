import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout; tokens and cookies are never written. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'workroom' },
    redact: ['req.headers.authorization', 'req.headers.cookie', 'token', '*.token'],
  });
}
