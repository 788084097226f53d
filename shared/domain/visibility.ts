import type { Actor, Audience } from '../schemas/common.js';
import type { RoomState } from '../schemas/room.js';

/**
 * THE visibility rule: whether `viewer` may see something addressed to `audience`. History,
 * broadcasts, exports and notifications all filter through it. The system sees everything.
 */
export function visibleTo(event: { audience: Audience }, viewer: Actor): boolean {
  if (viewer.side === 'system') return true;
  const audience = event.audience;
  switch (audience.kind) {
    case 'all':
      return true;
    case 'side':
      return viewer.side === audience.side;
    case 'user':
      return viewer.id === audience.userId;
  }
}

/**
 * The room state as `viewer` may see it: a side's feedback entry (public and private parts) is
 * shown to its author only; everyone else learns the public parts from `revealed` once revealed.
 */
export function redactState(state: RoomState, viewer: Actor): RoomState {
  if (viewer.side === 'system') return state;
  const { client, freelancer } = state.feedback;
  return {
    ...state,
    feedback: {
      client: client && client.by === viewer.id ? client : null,
      freelancer: freelancer && freelancer.by === viewer.id ? freelancer : null,
    },
  };
}
