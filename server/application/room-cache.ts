import type { RoomState } from '../../shared/domain/index.js';
import { ReleasingMap } from './releasing-map.js';

export interface CachedRoom {
  state: RoomState;
  /** Hash of the event at state.seq: the next event's prevHash. */
  lastHash: string | null;
  snapshotSeq: number;
}

export interface RoomCacheLimits {
  /** Rooms kept at most. */
  rooms: number;
  /**
   * Events folded into the kept states, at most, between them: a room's state grows with its
   * history, so a count of rooms alone does not bound the memory a few long rooms take.
   */
  events: number;
}

/** The folded state of recently used rooms, least recently used dropped first. */
export class RoomCache {
  private readonly rooms = new ReleasingMap<string, CachedRoom>();
  private events = 0;

  constructor(private readonly limits: RoomCacheLimits) {}

  get(roomId: string): CachedRoom | undefined {
    this.rooms.touch(roomId);
    return this.rooms.get(roomId);
  }

  set(roomId: string, room: CachedRoom): void {
    const replaced = this.rooms.get(roomId);
    this.events += room.state.seq - (replaced?.state.seq ?? 0);
    this.rooms.set(roomId, room);
    // A new room is set last already; a replaced one keeps its place until touched.
    if (replaced) this.rooms.touch(roomId);
    // The room just set stays, however long it is: it is the one in use.
    while (this.rooms.size > 1 && (this.rooms.size > this.limits.rooms || this.events > this.limits.events)) {
      this.delete(this.rooms.firstKey()!);
    }
  }

  delete(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.rooms.delete(roomId);
    this.events -= room.state.seq;
  }

  /** Rooms and events kept now. */
  get size(): { rooms: number; events: number } {
    return { rooms: this.rooms.size, events: this.events };
  }
}
