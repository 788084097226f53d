import type { Document } from 'mongodb';
import { CommitConflict, type CommitWriter } from '../store/commit-writer.js';
import type { CachedRoom } from './room-cache.js';
import { ReleasingMap } from './releasing-map.js';

interface Entry {
  doc: Document;
  durable: () => void;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Line {
  /** The room after everything decided so far: what the next command is decided on. */
  tip: CachedRoom;
  waiting: Entry[];
  settled: Array<() => void>;
}

/**
 * A room's commands are decided one after another without waiting for the store: each commit is
 * decided on the tip (the room after the commits still on their way), and while one group of the
 * room's commits is being written, the next ones gather into the following group. So a busy room
 * is not limited to one command per store round trip, and its commits still reach the store in
 * order, one group at a time.
 *
 * When a commit is refused (another process took its seq), everything decided on top of it is
 * refused too and the room's tip is dropped (`onRefused`): callers decide again on a fresh read.
 */
export class CommitPipeline {
  private readonly lines = new ReleasingMap<string, Line>();
  private readonly idle: Array<() => void> = [];

  constructor(
    private readonly writer: CommitWriter,
    private readonly onRefused: (roomId: string) => void,
  ) {}

  /** The room after every commit still on its way, if any is. */
  tip(roomId: string): CachedRoom | undefined {
    return this.lines.get(roomId)?.tip;
  }

  /**
   * Queues a commit decided on the tip; `after` becomes the tip. `durable` runs once it is durable,
   * in the room's order and before the returned promise resolves; a refusal rejects it.
   */
  submit(roomId: string, doc: Document, after: CachedRoom, durable: () => void): Promise<void> {
    let line = this.lines.get(roomId);
    const start = !line;
    if (!line) {
      line = { tip: after, waiting: [], settled: [] };
      this.lines.set(roomId, line);
    }
    line.tip = after;
    const written = new Promise<void>((resolve, reject) =>
      line.waiting.push({ doc, durable, resolve, reject }),
    );
    if (start) void this.send(roomId, line);
    return written;
  }

  /** Resolves once nothing of the room is on its way. */
  settled(roomId: string): Promise<void> {
    const line = this.lines.get(roomId);
    return line ? new Promise((resolve) => line.settled.push(resolve)) : Promise.resolve();
  }

  /** Resolves once nothing of any room is on its way. */
  drained(): Promise<void> {
    return this.lines.size === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
  }

  private async send(roomId: string, line: Line): Promise<void> {
    while (line.waiting.length > 0) {
      const group = line.waiting.splice(0);
      const answers = await Promise.allSettled(this.writer.writeGroup(group.map((e) => e.doc)));
      let refused = false;
      group.forEach((entry, i) => {
        const answer = answers[i]!;
        if (answer.status === 'fulfilled') {
          entry.durable();
          entry.resolve();
        } else {
          refused = true;
          entry.reject(answer.reason);
        }
      });
      if (refused) {
        for (const entry of line.waiting.splice(0)) entry.reject(new CommitConflict('earlier'));
        this.onRefused(roomId);
      }
    }
    this.lines.delete(roomId);
    line.settled.forEach((resolve) => resolve());
    if (this.lines.size === 0) this.idle.splice(0).forEach((resolve) => resolve());
  }
}
