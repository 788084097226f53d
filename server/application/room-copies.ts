import { evolve, type StoredEvent } from '../../shared/domain/index.js';
import type { Logger } from '../logger.js';
import type { CommitPipeline } from './commit-pipeline.js';
import { RoomCache, type CachedRoom } from './room-cache.js';
import type { RoomLog } from './room-log.js';

const MAX_BEHIND = 10_000;
/**
 * Folded rooms kept in memory. A message takes about 200 bytes of state and more with longer
 * text, so a million events is a few hundred MB; a room dropped from the cache is read again from
 * its snapshot and the log after it.
 */
const CACHE_LIMITS = { rooms: 5_000, events: 1_000_000 };

/**
 * This process's copies of rooms, kept in step with the log that other processes append to as
 * well: the cached folds, the tips of the commits on their way (CommitPipeline), and which rooms
 * another process appended to since this one last read them.
 */
export class RoomCopies {
  private readonly cache = new RoomCache(CACHE_LIMITS);
  /** Rooms another process appended to since this one last read them. */
  private readonly behind = new Set<string>();

  constructor(
    private readonly log: RoomLog,
    private readonly pipeline: CommitPipeline,
    private readonly logger: Logger,
  ) {}

  /**
   * The room after everything this process decided: the tip of the commits on their way, else the
   * cached room. Synchronous on purpose: a refusal drops the tip, and a decision must not be made
   * on a tip that was dropped while it waited.
   */
  latest(roomId: string): CachedRoom | undefined {
    return this.pipeline.tip(roomId) ?? this.cache.get(roomId);
  }

  /** Whether another process appended to the room since this one last read it. */
  isBehind(roomId: string): boolean {
    return this.behind.has(roomId);
  }

  /** The room caught up with the log, once this process's commits on their way are answered. */
  async caughtUp(roomId: string): Promise<CachedRoom | null> {
    await this.pipeline.settled(roomId);
    this.behind.delete(roomId);
    return this.read(roomId);
  }

  /**
   * The room's state caught up with the log: cached (or snapshot) state plus whatever other
   * processes appended since. A room with no events does not exist.
   */
  async read(roomId: string): Promise<CachedRoom | null> {
    const room = await this.log.caughtUp(roomId, this.cache.get(roomId) ?? (await this.log.snapshot(roomId)));
    if (room.state.seq === 0) return null;
    this.remember(roomId, room);
    return room;
  }

  /** Caches a room unless a newer state of it is cached already (reads and commits race). */
  remember(roomId: string, room: CachedRoom): void {
    const cached = this.cache.get(roomId);
    if (!cached || cached.state.seq <= room.state.seq) this.cache.set(roomId, room);
  }

  /**
   * Another process appended `events` to the room: folded into the cached room when they follow
   * it and nothing of this process is on its way there; otherwise the next command reads the room.
   */
  appendedElsewhere(roomId: string, events: StoredEvent[]): void {
    const first = events[0];
    const last = events.at(-1);
    const tip = this.pipeline.tip(roomId);
    const known = tip ?? this.cache.get(roomId);
    if (!first || !last || !known || known.state.seq >= last.seq) return;
    if (!tip && first.seq === known.state.seq + 1 && first.prevHash === known.lastHash) {
      try {
        this.remember(roomId, {
          state: events.reduce(evolve, known.state),
          lastHash: last.hash,
          snapshotSeq: known.snapshotSeq,
        });
        return;
      } catch (err) {
        this.logger.warn({ err, roomId }, 'events appended elsewhere not folded; the room will be read');
      }
    }
    this.markBehind(roomId);
  }

  /** The room's next command reads it first: another process appended to it. */
  markBehind(roomId: string): void {
    // Bounded: a forgotten mark costs one more refused commit, which marks the room again.
    if (this.behind.size >= MAX_BEHIND) this.behind.clear();
    this.behind.add(roomId);
  }
}
