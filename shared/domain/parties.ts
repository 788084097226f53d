import type { Actor, PartyActor, Role, Side, UserIdentity } from '../schemas/common.js';
import type { RoomState } from '../schemas/room.js';
import { isCreated } from './state.js';

export type { Actor, PartyActor, Role, Side, UserIdentity } from '../schemas/common.js';

/**
 * Who a user is in a room: the client (creator), an interviewer the client added, the freelancer,
 * or a manager of the freelancer's agency (acting on the freelancer's behalf). A client or
 * freelancer keeps that role even if also a manager. Everyone else: null (an outsider).
 */
export function resolveParty(state: RoomState, user: UserIdentity): PartyActor | null {
  if (!isCreated(state)) return null;
  if (user.id === state.clientId) return { id: user.id, side: 'client', role: 'client' };
  if (user.id === state.freelancerId) return { id: user.id, side: 'freelancer', role: 'freelancer' };
  if (state.interviewerIds.includes(user.id)) return { id: user.id, side: 'client', role: 'interviewer' };
  if (state.agencyId != null && user.agency?.role === 'manager' && user.agency.id === state.agencyId) {
    return { id: user.id, side: 'freelancer', role: 'agency_manager', onBehalfOf: state.freelancerId };
  }
  return null;
}

export function isSystem(actor: Actor): actor is Extract<Actor, { side: 'system' }> {
  return actor.side === 'system';
}

/**
 * Whether a party actor is consistent with the room (the server resolves actors with
 * resolveParty; this guards against an actor built for another room).
 */
export function isPartyOf(state: RoomState, actor: Actor): actor is PartyActor {
  if (isSystem(actor)) return false;
  switch (actor.role) {
    case 'client':
      return actor.side === 'client' && actor.id === state.clientId;
    case 'interviewer':
      return actor.side === 'client' && state.interviewerIds.includes(actor.id);
    case 'freelancer':
      return actor.side === 'freelancer' && actor.id === state.freelancerId;
    case 'agency_manager':
      return (
        actor.side === 'freelancer' &&
        state.agencyId != null &&
        actor.onBehalfOf === state.freelancerId &&
        actor.id !== state.clientId &&
        actor.id !== state.freelancerId
      );
  }
}

/** The principal of a side: the client or the freelancer. */
export function principalOf(state: RoomState, side: Side): string {
  return side === 'client' ? state.clientId : state.freelancerId;
}

export const CLIENT_SIDE_ROLES: readonly Role[] = ['client', 'interviewer'];
export const FREELANCER_SIDE_ROLES: readonly Role[] = ['freelancer', 'agency_manager'];
