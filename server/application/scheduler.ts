import { trusted } from 'mongoose';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Models } from '../store/models.js';
import type { RoomService } from './room-service.js';

const LEASE_ID = 'time-rules';
const BATCH = 200;

/**
 * Runs the time rules of rooms whose next deadline has passed. One process at a time holds a
 * lease in MongoDB and does the work; if it dies, the lease lapses and another takes over. Even
 * two at once could not apply a rule twice: each append is arbitrated by the room's seq.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private readonly owner = randomUUID();

  constructor(
    private readonly models: Models,
    private readonly rooms: RoomService,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce()
        // The store may be away for a moment; the next pass tries again.
        .catch((err: unknown) => this.logger.warn({ err }, 'scheduler pass failed'))
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.models.Lease.deleteOne({ _id: LEASE_ID, owner: this.owner }).catch(() => undefined);
  }

  /** One pass: take or renew the lease, then apply every due rule. */
  async runOnce(now = new Date()): Promise<number> {
    if (!(await this.lease(now))) return 0;
    const due = await this.models.Room.find({ nextDueAt: trusted({ $lte: now }) }, { _id: 1 })
      .sort({ nextDueAt: 1 })
      .limit(BATCH)
      .lean();
    let applied = 0;
    for (const { _id: roomId } of due) {
      try {
        const result = await this.rooms.runTimeRules(roomId, now);
        if (result) applied += result.events.length;
        else await this.rooms.refreshDeadline(roomId);
      } catch (err) {
        this.logger.error({ err, roomId }, 'time rules failed');
      }
    }
    return applied;
  }

  private async lease(now: Date): Promise<boolean> {
    const until = new Date(now.getTime() + this.intervalMs * 5);
    try {
      const lease = await this.models.Lease.findOneAndUpdate(
        { _id: LEASE_ID, $or: [{ owner: this.owner }, { until: trusted({ $lt: now }) }] },
        { $set: { owner: this.owner, until } },
        { upsert: true, returnDocument: 'after', lean: true },
      );
      return lease?.owner === this.owner;
    } catch (err) {
      // Another process holds a live lease: the upsert collides with its document.
      if ((err as { code?: number }).code === 11000) return false;
      throw err;
    }
  }
}
