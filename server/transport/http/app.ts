import express, { type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from '../../logger.js';
import { errorHandler, notFound } from './errors.js';
import { sharedReadiness, type ReadinessChecks } from './readiness.js';

export interface HttpAppOptions {
  logger: Logger;
  corsOrigins: string[];
  readinessChecks: ReadinessChecks;
  api: Router;
  /** The built browser app, served at `/` when present. */
  clientDir?: string;
}

export function createHttpApp(options: HttpAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: { 'connect-src': ["'self'", 'ws:', 'wss:'], 'img-src': ["'self'", 'data:', 'blob:'] },
      },
    }),
  );
  app.use(cors(options.corsOrigins));

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  const readiness = sharedReadiness(options.readinessChecks);
  app.get('/readyz', async (_req, res) => {
    const { ready, checks } = await readiness();
    res.status(ready ? 200 : 503).json({ ok: ready, checks });
  });

  app.use('/api', express.json({ limit: '256kb', strict: true }), options.api);
  app.use('/api', notFound);

  // Mounted whether or not the app is built yet: a build that lands later is served from then on.
  if (options.clientDir) app.use(express.static(options.clientDir, { index: 'index.html', maxAge: '1h' }));
  app.use(notFound);
  app.use(errorHandler(options.logger));
  return app;
}

/**
 * CORS for browsers on other origins listed in CORS_ORIGINS; same-origin requests need nothing.
 * Tokens travel in the Authorization header, never cookies, so credentials are not allowed.
 */
function cors(allowed: string[]): express.RequestHandler {
  const origins = new Set(allowed);
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin && origins.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      res.setHeader('Access-Control-Max-Age', '600');
      if (req.method === 'OPTIONS') {
        res.status(204).end();
        return;
      }
    }
    next();
  };
}
