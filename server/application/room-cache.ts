import type { RoomState } from '../../shared/domain/index.js';

export interface CachedRoom {
  state: RoomState;
  /** Hash of the event at state.seq: the next event's prevHash. */
  lastHash: string | null;
  snapshotSeq: number;
}

/** The folded state of recently used rooms, least recently used dropped first. */
export class RoomCache {
  private readonly rooms = new Map<string, CachedRoom>();

  constructor(private readonly capacity: number) {}

  get(roomId: string): CachedRoom | undefined {
    const room = this.rooms.get(roomId);
    if (room) {
      this.rooms.delete(roomId);
      this.rooms.set(roomId, room);
    }
    return room;
  }

  set(roomId: string, room: CachedRoom): void {
    this.rooms.delete(roomId);
    this.rooms.set(roomId, room);
    if (this.rooms.size > this.capacity) this.rooms.delete(this.rooms.keys().next().value!);
  }

  delete(roomId: string): void {
    this.rooms.delete(roomId);
  }
}
