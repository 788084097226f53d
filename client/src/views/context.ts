import {
  decide,
  resolveParty,
  type Command,
  type PartyActor,
  type RoomState,
} from '../../../shared/domain/index.js';
import type { App } from '../main.js';
import type { RoomModel } from '../room-model.js';

/** What every part of the room view works from. */
export interface RoomContext {
  app: App;
  model: RoomModel;
  /** Re-renders the parts whose data changed. */
  refresh(): void;
  send(command: Command): void;
}

export function actorIn(ctx: RoomContext, state: RoomState): PartyActor | null {
  return resolveParty(state, ctx.app.session.user);
}

/** Whether the domain core would accept this command from me now: only allowed actions are shown. */
export function can(ctx: RoomContext, command: Command): boolean {
  const state = ctx.model.state;
  if (!state) return false;
  const actor = actorIn(ctx, state);
  if (!actor) return false;
  return decide(state, command, actor, new Date()).ok;
}
