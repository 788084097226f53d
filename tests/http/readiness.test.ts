import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/logger.js';
import { createHttpApp } from '../../server/transport/http/app.js';
import type { ReadinessChecks } from '../../server/transport/http/readiness.js';
import { request } from '../support/http.js';
import { until } from '../support/socket-client.js';

/* /readyz needs no token: however many probes arrive, the dependencies are pinged once a round. */
describe('GET /readyz under many probes', () => {
  let http: Server | undefined;
  afterEach(() => new Promise<void>((done) => (http ? http.close(() => done()) : done())));

  async function serve(checks: ReadinessChecks): Promise<string> {
    const app = createHttpApp({
      logger: createLogger('silent'),
      corsOrigins: [],
      readinessChecks: checks,
      api: express.Router(),
    });
    http = createServer(app);
    await new Promise<void>((listening) => http!.listen(0, '127.0.0.1', listening));
    return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  }

  it('answers 200 probes arriving together with one ping of each dependency, and still reports a change', async () => {
    let pings = 0;
    let storeUp = true;
    const base = await serve({
      mongodb: async () => {
        pings++;
        await new Promise((r) => setTimeout(r, 20));
        return storeUp;
      },
      redis: async () => true,
    });

    const replies = await Promise.all(Array.from({ length: 200 }, () => request(base, 'GET', '/readyz')));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(replies[0]!.body).toEqual({ ok: true, checks: { mongodb: true, redis: true } });
    expect(pings).toBe(1);

    // Probes keep coming (every 25 ms) until one is told the store went away.
    storeUp = false;
    await until(async () => (await request(base, 'GET', '/readyz')).status === 503, 5000, 'a 503');
    expect((await request(base, 'GET', '/readyz')).body).toEqual({
      ok: false,
      checks: { mongodb: false, redis: true },
    });
    // Dozens of probes in that second or so cost a ping a round (one a second), not one each.
    expect(pings).toBeLessThanOrEqual(3);
  });

  it('answers 503 when a check fails by throwing, not 500', async () => {
    const base = await serve({
      mongodb: () => Promise.reject(new Error('connection refused')),
    });
    const reply = await request(base, 'GET', '/readyz');
    expect(reply.status).toBe(503);
    expect(reply.body).toEqual({ ok: false, checks: { mongodb: false } });
  });
});
