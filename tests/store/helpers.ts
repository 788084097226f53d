import { startEmbeddedMongo } from '../../server/embedded-mongo/index.js';

/**
 * The store the conformance suite runs against: real MongoDB when MONGODB_URI is set, otherwise an
 * embedded store started for this file on a free port.
 */
export interface TestStore {
  /** Connection string for a database (options of MONGODB_URI kept). */
  url(db: string): string;
  embedded: boolean;
  close(): Promise<void>;
}

export async function openTestStore(): Promise<TestStore> {
  const external = process.env.MONGODB_URI;
  if (external) {
    const m = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(external);
    if (!m) throw new Error('MONGODB_URI is not a mongodb:// connection string');
    const base = m[1] as string;
    const query = m[2] ?? '';
    return { url: (db) => `${base}/${db}${query}`, embedded: false, close: async () => {} };
  }
  const store = await startEmbeddedMongo({ port: 0 });
  return { url: (db) => `${store.uri}/${db}`, embedded: true, close: () => store.close() };
}

/** A database name unique to one test file and run, so suites never see each other's data. */
export function uniqueDbName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}`;
}
