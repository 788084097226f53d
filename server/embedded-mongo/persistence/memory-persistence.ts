import type { Persistence, RecoveredState } from './types.js';

/** Persistence that keeps nothing: for a store that lives only as long as its process (tests). */
export function memoryPersistence(): { persistence: Persistence; recovered: RecoveredState } {
  return {
    persistence: {
      append: async () => {},
      snapshot: async () => {},
      snapshotDue: false,
      close: async () => {},
    },
    recovered: { collections: [], records: [], truncatedBytes: 0 },
  };
}
