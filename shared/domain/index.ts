export { canonicalJson } from './canonical.js';
export { decide } from './decide.js';
export { DomainInvariantError, type DomainError, type DomainResult } from './errors.js';
export { evolve, fold } from './evolve.js';
export { MESSAGE_CHUNK, messageAt, messageList, withMessage } from './messages.js';
export { isPartyOf, isSystem, principalOf, resolveParty } from './parties.js';
export {
  emptyRoomState,
  findMilestone,
  isCreated,
  openProposal,
  otherSide,
  type FeedbackEntry,
  type MessageMeta,
  type Milestone,
  type Proposal,
  type RoomFile,
  type RoomState,
  type RoomView,
  type StatusReport,
} from './state.js';
export { amendmentViolation } from './terms-rules.js';
export {
  DEFAULT_DOMAIN_CONFIG,
  feedbackClosesAt,
  nextDeadline,
  statusReportDueAt,
  tick,
  type DomainConfig,
} from './time-rules.js';
export { redactState, visibleTo } from './visibility.js';

export { SYSTEM_ACTOR, UserIdentitySchema } from '../schemas/common.js';
export type {
  Actor,
  Audience,
  PartyActor,
  Phase,
  Role,
  Side,
  SystemActor,
  UserIdentity,
} from '../schemas/common.js';
export type { Command, CommandOf, CommandType, InternalCommand } from '../schemas/commands.js';
export type { ErrorCode } from '../schemas/errors.js';
export type {
  EventData,
  EventDraft,
  EventDraftOf,
  EventType,
  RoomEvent,
  StoredEvent,
  StoredEventOf,
} from '../schemas/events.js';
export type { Terms, TermsKind, TermsMilestone } from '../schemas/terms.js';
