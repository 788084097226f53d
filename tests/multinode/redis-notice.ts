import { hasBinary } from '../support/server.js';

/** Whether redis-server is here; if not, says so loudly (CI installs it, so it always runs there). */
export function redisAvailable(): boolean {
  if (hasBinary('redis-server')) return true;
  console.warn(
    '\n' +
      '*************************************************************************\n' +
      '*  SKIPPING multi-node suites: redis-server is not installed.            *\n' +
      '*  Install it (apt-get install redis-server) to run them; CI always does.*\n' +
      '*************************************************************************\n',
  );
  return false;
}
