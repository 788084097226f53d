import { describe, expect, it } from 'vitest';
import { RoomCache, type CachedRoom } from '../../server/application/room-cache.js';
import { emptyRoomState } from '../../shared/domain/index.js';

const room = (id: string, seq: number): CachedRoom => ({
  state: { ...emptyRoomState(id), seq },
  lastHash: null,
  snapshotSeq: 0,
});

/** The room cache bounds the server's memory by events held, not only by rooms. */
describe('RoomCache', () => {
  it('drops the least recently used rooms once the events they hold pass the budget', () => {
    const cache = new RoomCache({ rooms: 100, events: 1_000 });
    cache.set('a', room('a', 600));
    cache.set('b', room('b', 300));
    expect(cache.get('a')?.state.seq).toBe(600); // a is now the most recently used
    cache.set('c', room('c', 200));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.state.seq).toBe(600);
    expect(cache.get('c')?.state.seq).toBe(200);
    expect(cache.size).toEqual({ rooms: 2, events: 800 });
  });

  it('counts a room once however often its state is replaced', () => {
    const cache = new RoomCache({ rooms: 100, events: 1_000 });
    for (let seq = 1; seq <= 900; seq++) cache.set('a', room('a', seq));
    cache.set('b', room('b', 100));
    expect(cache.size).toEqual({ rooms: 2, events: 1_000 });
    cache.delete('a');
    expect(cache.size).toEqual({ rooms: 1, events: 100 });
  });

  it('keeps the room in use even when it alone is over the budget, and bounds the count of rooms', () => {
    const cache = new RoomCache({ rooms: 3, events: 1_000 });
    cache.set('a', room('a', 10));
    cache.set('long', room('long', 5_000));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('long')?.state.seq).toBe(5_000);
    for (const id of ['x', 'y', 'z']) cache.set(id, room(id, 1));
    expect(cache.size).toEqual({ rooms: 3, events: 3 });
  });
});
