import type { PartyActor, Phase, RoomState } from '../../shared/domain/index.js';
import type { Candidacy } from '../../shared/schemas/http.js';

/** What a candidacy is made of; a room document and a folded state both provide it. */
export interface RoomSummary {
  id: string;
  title: string;
  jobId: string | null;
  phase: Phase;
  clientId: string;
  freelancerId: string;
  agencyId: string | null;
  seq: number;
  lastActivityAt: string;
  openProposal: Candidacy['openProposal'];
}

export function candidacyOf(room: RoomSummary, myRole: PartyActor['role']): Candidacy {
  return {
    roomId: room.id,
    title: room.title,
    jobId: room.jobId,
    phase: room.phase,
    clientId: room.clientId,
    freelancerId: room.freelancerId,
    agencyId: room.agencyId,
    myRole,
    openProposal: room.openProposal,
    seq: room.seq,
    lastActivityAt: room.lastActivityAt,
  };
}

export function openProposalOf(state: RoomState): Candidacy['openProposal'] {
  const open = state.proposals.find((p) => p.version === state.openProposalVersion);
  return open ? { version: open.version, authorSide: open.authorSide } : null;
}

export function summaryOf(state: RoomState): RoomSummary {
  return {
    id: state.id,
    title: state.title,
    jobId: state.jobId,
    phase: state.phase,
    clientId: state.clientId,
    freelancerId: state.freelancerId,
    agencyId: state.agencyId,
    seq: state.seq,
    lastActivityAt: state.lastActivityAt,
    openProposal: openProposalOf(state),
  };
}

/** Offers waiting for an answer come first in every candidacy list, then the newest activity. */
export function byPendingOfferThenActivity(a: Candidacy, b: Candidacy): number {
  const pending = (c: Candidacy) => (c.phase === 'offer' ? 1 : 0);
  return pending(b) - pending(a) || b.lastActivityAt.localeCompare(a.lastActivityAt);
}

/** Event types after which a room's candidacy looks different. */
export const CANDIDACY_EVENTS = new Set([
  'room.created',
  'room.agencyAssigned',
  'members.added',
  'terms.proposed',
  'terms.accepted',
  'terms.declined',
  'terms.withdrawn',
  'contract.started',
  'contract.ended',
]);
