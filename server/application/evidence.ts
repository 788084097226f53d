import { hash } from 'node:crypto';
import type { StoredEvent } from '../../shared/domain/index.js';
import { canonicalBytes } from './canonical-bytes.js';

/**
 * The evidence chain: each event's hash is sha256 over the canonical JSON of the room id and the
 * event without its hash (its prevHash included), so editing, dropping or reordering stored history
 * breaks every hash after it.
 */
export function hashEvent(roomId: string, event: Omit<StoredEvent, 'hash'>): string {
  const { seq, type, at, actor, data, audience, prevHash } = event;
  // Members listed in canonical (sorted) order, so the encoder has nothing to sort at the top.
  return hash('sha256', canonicalBytes({ actor, at, audience, data, prevHash, roomId, seq, type }), 'hex');
}

export type ChainCheck = { ok: true; checked: number } | { ok: false; seq: number; reason: string };

/** An event the viewer may not see, kept in an export as its place in the chain. */
export interface HiddenEvent {
  seq: number;
  hidden: true;
  hash: string;
  prevHash: string | null;
}

/**
 * Verifies a contiguous run of a room's events, as an export or an auditor would. Hidden events'
 * hashes cannot be recomputed, but their links must hold.
 */
export function verifyChain(
  roomId: string,
  events: ReadonlyArray<StoredEvent | HiddenEvent>,
  prevHash: string | null = null,
): ChainCheck {
  let expectedPrev = prevHash;
  let expectedSeq = events[0]?.seq ?? 1;
  for (const event of events) {
    if (event.seq !== expectedSeq)
      return { ok: false, seq: event.seq, reason: `expected seq ${expectedSeq}` };
    if (event.prevHash !== expectedPrev)
      return { ok: false, seq: event.seq, reason: 'prevHash does not match' };
    if (!('hidden' in event) && hashEvent(roomId, event) !== event.hash)
      return { ok: false, seq: event.seq, reason: 'hash does not match' };
    expectedPrev = event.hash;
    expectedSeq += 1;
  }
  return { ok: true, checked: events.length };
}
