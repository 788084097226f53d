import { beforeAll, describe, expect, it } from 'vitest';
import { fold, messageList, type StoredEvent } from '../../shared/domain/index.js';
import type { RoomEvent, RoomSyncAck } from '../../shared/schemas/index.js';
import type { RoomModel as RoomModelClass } from '../../client/src/room-model.js';

// The browser model runs here without a browser: a Map stands in for localStorage.
const store = new Map<string, string>();
beforeAll(() => {
  (globalThis as { localStorage?: unknown }).localStorage = {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  };
});

const at = '2025-01-01T00:00:00.000Z';
const alice = { id: 'alice', side: 'client', role: 'client' } as const;

function created(): RoomEvent {
  return {
    seq: 1,
    type: 'room.created',
    at,
    actor: alice,
    data: {
      roomId: 'r1',
      title: 'T',
      clientId: 'alice',
      freelancerId: 'bob',
      jobId: null,
      interviewerIds: [],
      agencyId: null,
    },
    hash: 'h1',
    prevHash: null,
  };
}

function posted(seq: number, text: string): RoomEvent {
  return {
    seq,
    type: 'message.posted',
    at,
    actor: alice,
    data: { text, fileIds: [], replyTo: null },
    hash: `h${seq}`,
    prevHash: `h${seq - 1}`,
  };
}

function stored(events: RoomEvent[]): StoredEvent[] {
  return events.map((e) => ({ ...e, audience: { kind: 'all' } }) as StoredEvent);
}

async function model(
  sync: (since: number) => RoomSyncAck | null,
): Promise<{ m: RoomModelClass; calls: number[]; key: string }> {
  const { RoomModel } = await import('../../client/src/room-model.js');
  const calls: number[] = [];
  const key = `test.${Math.random()}`;
  const m = new RoomModel('r1', key, {
    sync: async (_roomId, since) => {
      calls.push(since);
      return sync(since);
    },
  });
  const first = [created(), posted(2, 'one'), posted(3, 'two')];
  m.joinedWith({ ok: true, room: fold(stored(first.slice(0, 2))), events: first, seq: 3 });
  return { m, calls, key };
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('the browser room model: exactly once, in order, gaps filled by seq', () => {
  it('folds the join, drops events it already applied', async () => {
    const { m, calls } = await model(() => null);
    expect(m.applied).toBe(3);
    expect(messageList(m.state!.messages).map((x) => x.seq)).toEqual([2, 3]);
    m.ingest([posted(2, 'one'), posted(3, 'two')]);
    m.ingest([posted(4, 'three')]);
    m.ingest([posted(4, 'three')]);
    expect(m.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(m.texts.get(4)).toBe('three');
    expect(calls).toEqual([]);
  });

  it('holds an event past a gap, asks for the range since the last applied seq, then applies in order', async () => {
    // seq 5 is visible, seq 6 is someone else's (hidden), seq 7 arrives live first
    const { m, calls } = await model((since) => ({
      ok: true,
      events: [posted(4, 'three'), posted(5, 'four')].filter((e) => e.seq > since),
      seq: 6,
    }));
    m.ingest([posted(7, 'six')]);
    expect(m.applied).toBe(3);
    await settle();
    expect(calls).toEqual([3]);
    expect(m.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 7]);
    expect(m.applied).toBe(7);
    expect(m.state!.seq).toBe(7);
    expect(messageList(m.state!.messages).map((x) => x.seq)).toEqual([2, 3, 4, 5, 7]);
  });

  it('offline during a gap: keeps what it holds until the next join catches up', async () => {
    const { m } = await model(() => null);
    m.ingest([posted(5, 'four')]);
    await settle();
    expect(m.applied).toBe(3);
    const state = fold(stored([created(), posted(2, 'one'), posted(3, 'two'), posted(4, 'three')]));
    m.joinedWith({ ok: true, room: state, events: [posted(4, 'three')], seq: 4 });
    expect(m.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(m.applied).toBe(5);
  });

  it('keeps the room in the browser cache for an offline reload', async () => {
    const { m, key } = await model(() => null);
    m.persist();
    const { RoomModel } = await import('../../client/src/room-model.js');
    const again = new RoomModel('r1', key, { sync: async () => null });
    expect(again.fromCache).toBe(true);
    expect(again.applied).toBe(m.applied);
    expect(again.texts.get(3)).toBe('two');
  });
});
