/** Each answers whether a dependency (MongoDB, Redis) is reachable. */
export type ReadinessChecks = Record<string, () => Promise<boolean>>;

interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
}

/** How long a round's answer serves the probes after it: the oldest state a probe can be told. */
const READINESS_FRESH_MS = 1000;

/**
 * The dependencies' state as `/readyz` reports it. `/readyz` needs no token, and each round pings
 * the store (and Redis): probes that arrive while a round is out share it, and its answer serves
 * the probes of the next second, so a flood of probes costs one ping per dependency a second.
 */
export function sharedReadiness(checks: ReadinessChecks): () => Promise<Readiness> {
  let round: Promise<Readiness> | undefined;
  let expires = 0;
  return () => {
    if (round && Date.now() < expires) return round;
    expires = Infinity;
    round = runChecks(checks).finally(() => {
      expires = Date.now() + READINESS_FRESH_MS;
    });
    return round;
  };
}

async function runChecks(checks: ReadinessChecks): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await check().catch(() => false)] as const),
  );
  return { ready: entries.every(([, up]) => up), checks: Object.fromEntries(entries) };
}
