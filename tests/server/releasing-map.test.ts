import { describe, expect, it } from 'vitest';
import { ReleasingMap } from '../../server/application/releasing-map.js';

/** The map under the room cache, the room queues and the commits on their way. */
describe('ReleasingMap', () => {
  it('keeps, replaces and removes values as a Map does', () => {
    const map = new ReleasingMap<string, number>();
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 3);
    expect(map.get('a')).toBe(3);
    expect(map.size).toBe(2);
    expect(map.delete('a')).toBe(true);
    expect(map.delete('a')).toBe(false);
    expect(map.get('a')).toBeUndefined();
    expect(map.size).toBe(1);
  });

  it('orders keys by insertion; replacing a value keeps its place and touching moves it last', () => {
    const map = new ReleasingMap<string, number>();
    for (const key of ['a', 'b', 'c']) map.set(key, 0);
    map.set('a', 1);
    expect(map.firstKey()).toBe('a');
    map.touch('a');
    map.touch('missing');
    expect(map.firstKey()).toBe('b');
    expect(map.take()).toEqual([
      ['b', 0],
      ['c', 0],
      ['a', 1],
    ]);
  });

  it('is empty after take, and a key taken can be set again', () => {
    const map = new ReleasingMap<string, string>();
    map.set('a', 'x');
    expect(map.take()).toEqual([['a', 'x']]);
    expect(map.size).toBe(0);
    expect(map.firstKey()).toBeUndefined();
    map.set('a', 'y');
    expect(map.get('a')).toBe('y');
  });
});
