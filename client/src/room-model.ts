import { evolve, type RoomState, type StoredEvent } from '../../shared/domain/index.js';
import type { RoomEvent, RoomJoinAck, RoomSyncAck } from '../../shared/schemas/index.js';

/** What a room model needs from the connection: a gap fill (null when it cannot be done now). */
export interface Syncer {
  sync(roomId: string, since: number): Promise<RoomSyncAck | null>;
}

interface Cached {
  state: RoomState;
  events: RoomEvent[];
  applied: number;
}

/** Events kept in the browser's cache per room (the newest ones); a fresh join loads them all. */
const CACHE_EVENTS = 400;

/**
 * One room as this browser knows it: the state kept by `evolve` from the events received, the
 * visible events (the timeline), and `applied` — the seq up to which nothing is missing. Events at
 * or below it are dropped; an event past `applied + 1` is held while the gap is filled by seq.
 */
export class RoomModel {
  state: RoomState | null = null;
  events: RoomEvent[] = [];
  applied = 0;
  /** Current text of each message, by the seq of its `message.posted`. */
  readonly texts = new Map<number, string>();
  /** Other users' read positions (from `room:read`). */
  readonly reads = new Map<string, number>();
  /** Who is typing, with when the signal lapses. */
  readonly typing = new Map<string, number>();
  online: string[] = [];
  joined = false;
  /** Set when the room cannot be shown (FORBIDDEN / NOT_FOUND). */
  error: string | null = null;
  fromCache = false;
  private held: RoomEvent[] = [];
  private filling = false;
  private readonly listeners = new Set<() => void>();
  private saveTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly roomId: string,
    private readonly cacheKey: string,
    private readonly syncer: Syncer,
  ) {
    this.restore();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(): void {
    for (const l of this.listeners) l();
    // Saved at most 250 ms after the first unsaved change: a busy room that changes more often
    // than that is still saved, not postponed for as long as it stays busy.
    this.saveTimer ??= setTimeout(() => this.persist(), 250);
  }

  /** A `room:join` answer: the server's state replaces ours; its events extend the timeline. */
  joinedWith(ack: RoomJoinAck): void {
    this.state = ack.room;
    this.fromCache = false;
    this.error = null;
    this.joined = true;
    for (const e of [...ack.events].sort(bySeq)) if (e.seq > this.applied) this.apply(e);
    this.applied = Math.max(this.applied, ack.seq);
    this.drain();
    this.changed();
  }

  /** Events from a broadcast or a command's ack. */
  ingest(events: readonly RoomEvent[]): void {
    for (const e of [...events].sort(bySeq)) {
      if (e.seq <= this.applied) continue; // already applied: drop
      if (!this.filling && e.seq === this.applied + 1 && this.state) this.apply(e);
      else if (!this.held.some((h) => h.seq === e.seq)) this.held.push(e);
    }
    if (this.held.length > 0 && !this.filling && this.state) void this.fillGap();
    this.changed();
  }

  /** Asks for every event after `applied` (events the user may not see leave legitimate holes). */
  private async fillGap(): Promise<void> {
    this.filling = true;
    try {
      for (let round = 0; round < 5 && this.held.length > 0; round++) {
        const ack = await this.syncer.sync(this.roomId, this.applied);
        if (!ack) return; // offline: the next join catches up
        for (const e of [...ack.events].sort(bySeq)) if (e.seq > this.applied) this.apply(e);
        this.applied = Math.max(this.applied, ack.seq);
        this.drain();
      }
    } finally {
      this.filling = false;
      this.changed();
    }
  }

  private drain(): void {
    this.held = this.held.filter((e) => e.seq > this.applied).sort(bySeq);
    while (this.held[0] && this.held[0].seq === this.applied + 1) this.apply(this.held.shift()!);
  }

  private apply(e: RoomEvent): void {
    if (this.state && e.seq > this.state.seq) {
      // Events this user may not see leave holes in seq: evolve from just before this one.
      try {
        this.state = evolve({ ...this.state, seq: e.seq - 1 }, toStored(e));
      } catch (err) {
        console.warn('event did not apply; the next join reloads the room', err);
      }
    }
    this.events.push(e);
    if (e.type === 'message.posted') this.texts.set(e.seq, e.data.text);
    if (e.type === 'message.edited') this.texts.set(e.data.seq, e.data.text);
    this.applied = e.seq;
  }

  setRead(userId: string, seq: number): void {
    this.reads.set(userId, Math.max(seq, this.reads.get(userId) ?? 0));
    this.changed();
  }

  setTyping(userId: string, typing: boolean): void {
    if (typing) this.typing.set(userId, Date.now() + 6000);
    else this.typing.delete(userId);
    this.changed();
  }

  typingNow(): string[] {
    const now = Date.now();
    return [...this.typing].filter(([, until]) => until > now).map(([id]) => id);
  }

  private restore(): void {
    try {
      const raw = localStorage.getItem(this.cacheKey);
      if (!raw) return;
      const cached = JSON.parse(raw) as Cached;
      this.state = cached.state;
      this.events = cached.events;
      this.applied = cached.applied;
      this.fromCache = true;
      for (const e of this.events) {
        if (e.type === 'message.posted') this.texts.set(e.seq, e.data.text);
        if (e.type === 'message.edited') this.texts.set(e.data.seq, e.data.text);
      }
    } catch {
      localStorage.removeItem(this.cacheKey);
    }
  }

  persist(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (!this.state) return;
    const cached: Cached = {
      state: this.state,
      events: this.events.slice(-CACHE_EVENTS),
      applied: this.applied,
    };
    try {
      localStorage.setItem(this.cacheKey, JSON.stringify(cached));
    } catch {
      // storage full: the room still works, it just is not available offline
    }
  }
}

function bySeq(a: { seq: number }, b: { seq: number }): number {
  return a.seq - b.seq;
}

/** A wire event as `evolve` takes it (broadcasts may omit the audience: everything we receive is ours to see). */
function toStored(e: RoomEvent): StoredEvent {
  return { ...e, audience: e.audience ?? { kind: 'all' } } as StoredEvent;
}
