import type { StoredEvent } from '../../shared/domain/index.js';

/**
 * How processes sharing a store tell each other what they appended (over Redis when scaled out).
 * A process that hears of a room it holds folds the events into its copy, or, if they do not
 * follow it, reads the room before deciding there again. Only a shortcut: without it a process
 * decides on its stale copy, the store refuses the commit (its `_id` arbitrates) and it decides
 * again.
 */
export interface RoomAppends {
  /** Tells the other processes that this one appended `events` (durable, in order) to the room. */
  publish(roomId: string, events: StoredEvent[]): void;
  /** Calls `listener` with what another process appended to a room. */
  subscribe(listener: (roomId: string, events: StoredEvent[]) => void): void;
}
