import type { Collection, Document } from 'mongodb';
import { emptyRoomState, evolve, type RoomState, type StoredEvent } from '../../shared/domain/index.js';
import type { Models } from '../store/models.js';
import type { CachedRoom } from './room-cache.js';

/** Events folded per read while catching a room up. */
const FOLD_PAGE = 1_000;

/**
 * The shape of the room state that snapshots hold: 3 since messages are kept in chunks keyed by
 * offset. An older snapshot is not read (the room is folded from its log) and is replaced by the
 * next one.
 */
export const SNAPSHOT_FORMAT = 3;

/**
 * A commit's `_id`: the room and its first seq, the seq zero-padded so that a room's commits sort
 * in seq order. Room ids never contain ':'.
 */
export function commitKey(roomId: string, seq: number): string {
  return `${roomId}:${String(seq).padStart(12, '0')}`;
}

/**
 * The document that appends a room's events to the log (one commit: seq..lastSeq, one clientId).
 * The events are kept as their JSON text: one string for the store to write and read back,
 * rather than a tree of fields nobody queries (reads parse it, which JSON.parse does fastest).
 */
export function commitDoc(roomId: string, events: StoredEvent[], clientId: string | undefined) {
  return {
    _id: commitKey(roomId, events[0]!.seq),
    roomId,
    seq: events[0]!.seq,
    lastSeq: events[events.length - 1]!.seq,
    ...(clientId ? { clientId } : {}),
    eventsJson: JSON.stringify(events),
    at: new Date(events[0]!.at),
  };
}

/** What reads of the log project: the events, as text or (commits written before) as an array. */
export const EVENTS_PROJECTION = { eventsJson: 1, events: 1 } as const;

/** A commit document's events. */
export function eventsOf(doc: Document): StoredEvent[] {
  return typeof doc.eventsJson === 'string'
    ? (JSON.parse(doc.eventsJson) as StoredEvent[])
    : (doc.events as StoredEvent[]);
}

/** Reads of a room's durable history: its snapshot, the events after a seq, a commit by clientId. */
export class RoomLog {
  private readonly commits: Collection;

  constructor(private readonly models: Models) {
    this.commits = models.Commit.collection as unknown as Collection;
  }

  /** The room's snapshot, or its empty state before any (a room is then folded from its first event). */
  async snapshot(roomId: string): Promise<CachedRoom> {
    const doc = await this.models.Snapshot.findById(roomId).lean();
    if (!doc || doc.format !== SNAPSHOT_FORMAT)
      return { state: emptyRoomState(roomId), lastHash: null, snapshotSeq: 0 };
    return { state: JSON.parse(doc.state) as RoomState, lastHash: doc.hash ?? null, snapshotSeq: doc.seq };
  }

  /** The room with whatever any process appended after it folded on; usually one query that finds nothing. */
  async caughtUp(roomId: string, room: CachedRoom): Promise<CachedRoom> {
    for (;;) {
      const later = await this.eventsAfter(roomId, room.state.seq, FOLD_PAGE);
      if (later.length === 0) return room;
      room = { ...room, state: later.reduce(evolve, room.state), lastHash: later[later.length - 1]!.hash };
      // A page short of the limit was the end of the log: no need to ask again.
      if (later.length < FOLD_PAGE) return room;
    }
  }

  /** Events with seq > after, in order, at most `limit`. */
  async eventsAfter(roomId: string, after: number, limit: number): Promise<StoredEvent[]> {
    const docs = await this.commits
      .find({ roomId, lastSeq: { $gt: after } }, { projection: EVENTS_PROJECTION })
      .sort({ lastSeq: 1 })
      .limit(limit)
      .toArray();
    const events: StoredEvent[] = [];
    for (const doc of docs) {
      for (const event of eventsOf(doc)) {
        if (event.seq > after && events.length < limit) events.push(event);
      }
    }
    return events;
  }

  /** The commit a clientId made in the room, if any. */
  async byClientId(
    roomId: string,
    clientId: string,
  ): Promise<{ lastSeq: number; events: StoredEvent[] } | null> {
    const doc = await this.commits.findOne({ roomId, clientId });
    return doc && { lastSeq: doc.lastSeq as number, events: eventsOf(doc) };
  }
}
