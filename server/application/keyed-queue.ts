import { ReleasingMap } from './releasing-map.js';

/** Runs tasks one at a time per key (the commands of one room), concurrently across keys. */
export class KeyedQueue {
  private readonly tails = new ReleasingMap<string, Promise<unknown>>();

  /** A task whose key has nothing queued starts at once (the command path's common case). */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const result = previous ? previous.then(task, task) : task();
    const settled = (): void => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
    const tail: Promise<unknown> = result.then(settled, settled);
    this.tails.set(key, tail);
    return result;
  }
}
