import type { Side } from '../schemas/common.js';
import type { FeedbackEntry, Milestone, Proposal, RoomState } from '../schemas/room.js';

export type {
  RoomState,
  RoomView,
  Milestone,
  Proposal,
  MessageMeta,
  RoomFile,
  FeedbackEntry,
  StatusReport,
} from '../schemas/room.js';

/** The state of a room before its `room.created` (seq 0). */
export function emptyRoomState(roomId: string): RoomState {
  return {
    id: roomId,
    title: '',
    jobId: null,
    clientId: '',
    freelancerId: '',
    interviewerIds: [],
    agencyId: null,
    phase: 'interview',
    seq: 0,
    createdAt: '',
    lastActivityAt: '',
    startedAt: null,
    endedAt: null,
    endedBy: null,
    endReason: null,
    proposals: [],
    openProposalVersion: null,
    termsInForce: null,
    milestones: [],
    currency: null,
    statusReports: [],
    lastStatusReportAt: null,
    remindersSent: { inactivity: 0, statusReport: 0 },
    messages: {},
    files: {},
    feedback: { client: null, freelancer: null },
    revealed: null,
  };
}

/** True once `room.created` has been applied. */
export function isCreated(state: RoomState): boolean {
  return state.seq > 0;
}

/** An own property of a record keyed by ids (never one inherited from Object.prototype). */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

export function openProposal(state: RoomState): Proposal | undefined {
  return state.openProposalVersion == null ? undefined : state.proposals[state.openProposalVersion - 1];
}

export function findMilestone(state: RoomState, id: string): Milestone | undefined {
  return state.milestones.find((m) => m.id === id);
}

export function feedbackOf(state: RoomState, side: Side): FeedbackEntry | null {
  return state.feedback[side];
}

export function otherSide(side: Side): Side {
  return side === 'client' ? 'freelancer' : 'client';
}
