import { redactState, type Actor, type RoomState } from '../../shared/domain/index.js';
import { verifyChain } from './evidence.js';
import type { RoomQueries } from './room-queries.js';

/**
 * A room's full history as one viewer may see it. Events hidden from the viewer keep their place
 * as { seq, hidden, hash, prevHash }, so the chain still shows that nothing was removed.
 */
export async function exportRoom(state: RoomState, viewer: Actor, queries: RoomQueries) {
  const events = await queries.history(state.id, viewer);
  return {
    ok: true as const,
    format: 'workroom-export/1',
    exportedAt: new Date().toISOString(),
    viewer: { id: viewer.id, side: viewer.side, role: viewer.role },
    room: redactState(state, viewer),
    events,
    verification: {
      chain: verifyChain(state.id, events),
      algorithm: 'sha256',
      howTo:
        'For each event in seq order: prevHash must equal the previous event’s hash (null for seq 1), and ' +
        'hash must equal hex(sha256(canonical JSON of { roomId, seq, type, at, actor, data, audience, prevHash })), ' +
        'where canonical JSON sorts object keys and has no whitespace. Hidden events carry only seq, hash and ' +
        'prevHash: their hash cannot be recomputed, but the links around them show nothing was removed.',
    },
  };
}
