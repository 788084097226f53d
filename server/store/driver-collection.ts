import type { Collection, Db, Document } from 'mongodb';
import type { Connection } from 'mongoose';

/**
 * The driver's own collection behind a model, for the writes on every command's path: mongoose
 * wraps each collection call (command buffering, debug hooks), which costs more than the call
 * itself there. Resolved through the model's connection, so it follows a client that the store
 * watchdog replaced.
 */
export function driverCollection<T extends Document = Document>(model: {
  db: Connection;
  collection: { collectionName: string };
}): () => Collection<T> {
  const name = model.collection.collectionName;
  let db: Db | undefined;
  let collection: Collection<T> | undefined;
  return () => {
    const current = model.db.db;
    if (!current) throw new Error(`not connected to the store (collection ${name})`);
    if (current !== db || !collection) {
      db = current;
      collection = current.collection<T>(name);
    }
    return collection;
  };
}
