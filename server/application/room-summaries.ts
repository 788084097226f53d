import type { Collection } from 'mongodb';
import { nextDeadline, type DomainConfig, type RoomState } from '../../shared/domain/index.js';
import type { Logger } from '../logger.js';
import type { Models } from '../store/models.js';
import { openProposalOf } from './candidacy.js';

interface Pending {
  state: RoomState;
  /** Set when a snapshot is due: the state to keep and the hash of its last event. */
  snapshot: { state: RoomState; hash: string } | undefined;
}

/**
 * The room documents (what lists, candidacies and the scheduler read) and the snapshots, written
 * off the command's path: everything marked while one batch is being written goes out together
 * in the next, and only the latest state of each room matters. The log is the truth: writes are
 * guarded by seq so a late one never moves a summary back, and a failed one is repaired by the next.
 */
export class RoomSummaries {
  private readonly pending = new Map<string, Pending>();
  private flushing: Promise<void> | undefined;
  private readonly rooms: Collection<{ _id: string }>;
  private readonly snapshots: Collection<{ _id: string }>;

  constructor(
    models: Models,
    private readonly config: DomainConfig,
    private readonly logger: Logger,
  ) {
    this.rooms = models.Room.collection as unknown as Collection<{ _id: string }>;
    this.snapshots = models.Snapshot.collection as unknown as Collection<{ _id: string }>;
  }

  mark(roomId: string, state: RoomState, snapshotHash: string | undefined): void {
    const snapshot = snapshotHash === undefined ? this.pending.get(roomId)?.snapshot : { state, hash: snapshotHash };
    this.pending.set(roomId, { state, snapshot });
    this.flushing ??= this.flush();
  }

  /** Resolves once every summary marked so far is written. */
  async written(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.size > 0) await this.writeBatch();
    this.flushing = undefined;
  }

  private async writeBatch(): Promise<void> {
    const batch = [...this.pending.entries()];
    this.pending.clear();
    const rooms = batch.map(([roomId, { state }]) => ({
      updateOne: { filter: { _id: roomId, seq: { $lt: state.seq } }, update: { $set: roomFields(state, this.config) } },
    }));
    const snapshots = batch.flatMap(([roomId, { snapshot }]) =>
      snapshot
        ? [
            {
              updateOne: {
                filter: { _id: roomId, seq: { $lt: snapshot.state.seq } },
                update: { $set: { seq: snapshot.state.seq, hash: snapshot.hash, state: JSON.stringify(snapshot.state) } },
                upsert: true,
              },
            },
          ]
        : [],
    );
    await Promise.all([
      this.rooms.bulkWrite(rooms, { ordered: false }),
      snapshots.length ? this.snapshots.bulkWrite(snapshots, { ordered: false }) : undefined,
    ]).catch((err: unknown) => {
      // A newer snapshot already there makes the upsert collide: nothing to do.
      const writeErrors = (err as { writeErrors?: Array<{ code?: number }> }).writeErrors;
      if (writeErrors?.every((e) => e.code === 11000)) return;
      this.logger.warn({ err, rooms: batch.length }, 'room summaries not updated');
    });
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

