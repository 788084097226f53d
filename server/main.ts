import { ConfigError, loadConfig } from './config.js';
import { setHeapGrowth } from './heap-growth.js';
import { createLogger } from './logger.js';
import { startServer } from './server.js';

/** Entry point: read the configuration, start, and stop cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  // Before the store's thread starts, so that its heap grows the same way.
  setHeapGrowth(config.heapGrowingPercent);
  // A stray rejection is a bug to log, not a reason to drop every connected user.
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  const server = await startServer(config, logger);
  logger.info({ url: server.url }, 'Workroom listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    await server.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
