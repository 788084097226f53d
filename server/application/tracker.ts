/** Counts work in progress, so shutdown can wait for all of it, retries included. */
export class Tracker {
  private count = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly finished = (): void => {
    if (--this.count === 0) this.waiters.splice(0).forEach((resolve) => resolve());
  };

  track<T>(work: () => Promise<T>): Promise<T> {
    this.count++;
    const done = work();
    done.then(this.finished, this.finished);
    return done;
  }

  /** Resolves once nothing is in progress. */
  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}
