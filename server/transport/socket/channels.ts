import type { Actor, Audience } from '../../../shared/domain/index.js';

/**
 * Socket.IO rooms. A socket that joined a workroom is in exactly three of its channels: the
 * whole room, its side, and itself, so an event reaches each allowed viewer once and nobody else.
 */
export const channels = {
  room: (roomId: string) => `room:${roomId}`,
  side: (roomId: string, side: string) => `room:${roomId}:side:${side}`,
  viewer: (roomId: string, userId: string) => `room:${roomId}:user:${userId}`,
  /** Every socket of a user: notifications, candidacy updates, read positions. */
  user: (userId: string) => `user:${userId}`,
  /** Every socket of an agency's managers: their team's candidacies. */
  agencyManagers: (agencyId: string) => `agency:${agencyId}:managers`,
};

export function viewerChannels(roomId: string, viewer: Actor): string[] {
  return [channels.room(roomId), channels.side(roomId, viewer.side), channels.viewer(roomId, viewer.id)];
}

/** The one channel that carries an event with this audience. */
export function audienceChannel(roomId: string, audience: Audience): string {
  switch (audience.kind) {
    case 'all':
      return channels.room(roomId);
    case 'side':
      return channels.side(roomId, audience.side);
    case 'user':
      return channels.viewer(roomId, audience.userId);
  }
}
