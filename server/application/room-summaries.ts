import type { AnyBulkWriteOperation, Collection } from 'mongodb';
import { nextDeadline, type DomainConfig, type RoomState } from '../../shared/domain/index.js';
import type { Logger } from '../logger.js';
import { driverCollection } from '../store/driver-collection.js';
import type { Models } from '../store/models.js';
import { openProposalOf } from './candidacy.js';
import { ReleasingMap } from './releasing-map.js';
import { SNAPSHOT_FORMAT } from './room-log.js';
import { stateJson } from './state-json.js';

interface Pending {
  state: RoomState;
  /** Set when a snapshot is due: the state to keep and the hash of its last event. */
  snapshot: { state: RoomState; hash: string } | undefined;
}

/**
 * While commands keep marking rooms, summaries are written at most every BRISK_DELAY_MS, and
 * every FLUSH_DELAY_MS under load (a batch of at least BUSY_BATCH rooms): a busy room changes
 * with every message, and writing its summary a few times a second rather than once per command
 * saves the store most of that work. A room marked after a quiet spell is written at once, so
 * other processes see it at once too; readers of this process never wait for a pause: while
 * anyone awaits `written()`, batches go out back to back.
 */
const BUSY_BATCH = 20;
const FLUSH_DELAY_MS = 1_000;
const BRISK_DELAY_MS = 200;
/** Updates per store command when writing summaries (see writeBatch). */
const WRITE_PIECE = 10;
/** Snapshot text per store command: a few large snapshots, not ten, hold up the commits behind them. */
const SNAPSHOT_PIECE_BYTES = 128 * 1024;

/**
 * A room's snapshot is rewritten after max(50, its seq at the last snapshot) new events, so the
 * interval doubles as the room grows: a snapshot holds the whole state, so a fixed interval would
 * rewrite a long room's history over and over (the write volume would grow with the square of its
 * length). Doubling writes about twice an event's share of the state per event (an interval of a
 * quarter of the seq wrote five times it), and a cold load still folds at most 60% of the log.
 * Each room stretches the interval by its own 0 to 50%, so rooms that grow alike (created
 * together, equally busy) do not all snapshot in the same second.
 */
export function snapshotDue(roomId: string, seq: number, snapshotSeq: number): boolean {
  const interval = Math.max(50, snapshotSeq);
  return seq - snapshotSeq >= interval + Math.floor((interval * spreadOf(roomId)) / 2);
}

/** A fraction in [0, 1) fixed for each room (FNV-1a of its id). */
function spreadOf(roomId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < roomId.length; i++) h = Math.imul(h ^ roomId.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 2 ** 32;
}

/**
 * The room documents (what lists, candidacies and the scheduler read) and the snapshots, written
 * off the command's path: everything marked while one batch is written (or paused, under load)
 * goes out together in the next, and only the latest state of each room matters. The log is the
 * truth: writes are guarded by seq so a late one never moves a summary back, and a failed one is
 * repaired by the next.
 */
export class RoomSummaries {
  private readonly pending = new ReleasingMap<string, Pending>();
  private flushing: Promise<void> | undefined;
  private startNow: (() => void) | undefined;
  /** Callers of written() still waiting. */
  private waiting = 0;
  /** When the last batch was written (performance.now()). */
  private lastWritten = -Infinity;
  private readonly rooms: () => Collection<{ _id: string }>;
  private readonly snapshots: () => Collection<{ _id: string }>;

  constructor(
    models: Models,
    private readonly config: DomainConfig,
    private readonly logger: Logger,
  ) {
    this.rooms = driverCollection(models.Room);
    this.snapshots = driverCollection(models.Snapshot);
  }

  mark(roomId: string, state: RoomState, snapshotHash: string | undefined): void {
    const snapshot =
      snapshotHash === undefined ? this.pending.get(roomId)?.snapshot : { state, hash: snapshotHash };
    this.pending.set(roomId, { state, snapshot });
    this.flushing ??= this.flush();
  }

  /** Resolves once every summary marked so far is written: no batch pauses while anyone waits. */
  async written(): Promise<void> {
    this.waiting++;
    try {
      this.startNow?.();
      while (this.flushing) await this.flushing;
    } finally {
      this.waiting--;
    }
  }

  private async flush(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    const sinceLast = performance.now() - this.lastWritten;
    if (sinceLast < BRISK_DELAY_MS) await this.pause(BRISK_DELAY_MS - sinceLast);
    while (this.pending.size > 0) {
      const rooms = this.pending.size;
      await this.writeBatch();
      this.lastWritten = performance.now();
      if (this.pending.size > 0) await this.pause(rooms >= BUSY_BATCH ? FLUSH_DELAY_MS : BRISK_DELAY_MS);
    }
    this.flushing = undefined;
  }

  private async pause(ms: number): Promise<void> {
    if (this.waiting > 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.startNow = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.startNow = undefined;
  }

  private async writeBatch(): Promise<void> {
    const batch = this.pending.take();
    // In small pieces, one after another: the store runs commands in turn, and a hundred updates
    // (or a few hundred KB of snapshots) at once would hold up the commits, and so every
    // acknowledgement, queued behind them.
    let i = 0;
    while (i < batch.length) {
      const rooms: AnyBulkWriteOperation<{ _id: string }>[] = [];
      const snapshots: AnyBulkWriteOperation<{ _id: string }>[] = [];
      let snapshotBytes = 0;
      for (; i < batch.length && rooms.length < WRITE_PIECE && snapshotBytes < SNAPSHOT_PIECE_BYTES; i++) {
        const [roomId, { state, snapshot }] = batch[i]!;
        rooms.push({
          updateOne: {
            filter: { _id: roomId, seq: { $lt: state.seq } },
            update: { $set: roomFields(state, this.config) },
          },
        });
        if (!snapshot) continue;
        const text = await stateJson(snapshot.state);
        snapshotBytes += text.length;
        snapshots.push({
          updateOne: {
            filter: { _id: roomId, seq: { $lt: snapshot.state.seq } },
            update: {
              $set: { seq: snapshot.state.seq, hash: snapshot.hash, state: text, format: SNAPSHOT_FORMAT },
            },
            upsert: true,
          },
        });
      }
      await this.bulk(this.rooms, rooms);
      if (snapshots.length > 0) await this.bulk(this.snapshots, snapshots);
    }
  }

  private async bulk(
    collection: () => Collection<{ _id: string }>,
    ops: AnyBulkWriteOperation<{ _id: string }>[],
  ): Promise<void> {
    try {
      await collection().bulkWrite(ops, { ordered: false });
    } catch (err) {
      // A newer snapshot already there makes the upsert collide: nothing to do.
      const writeErrors = (err as { writeErrors?: Array<{ code?: number }> }).writeErrors;
      if (writeErrors?.every((e) => e.code === 11000)) return;
      this.logger.warn({ err, rooms: ops.length }, 'room summaries not updated');
    }
  }
}

/** What a room document says about a room's state. */
export function roomFields(state: RoomState, config: DomainConfig) {
  return {
    title: state.title,
    jobId: state.jobId ?? null,
    clientId: state.clientId,
    freelancerId: state.freelancerId,
    interviewerIds: state.interviewerIds,
    memberIds: [state.clientId, state.freelancerId, ...state.interviewerIds],
    agencyId: state.agencyId ?? null,
    phase: state.phase,
    seq: state.seq,
    lastActivityAt: new Date(state.lastActivityAt),
    nextDueAt: nextDeadline(state, config),
    openProposal: openProposalOf(state),
  };
}
