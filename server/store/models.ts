import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * The room log. One document per command: the events that command appended, with their seqs.
 * A command's events land together or not at all on any MongoDB deployment (a document write is
 * atomic). Its `_id` is the room and first seq (commitKey), so concurrent writers of one room
 * collide on the primary key and the loser reloads and retries, with no index of its own to keep;
 * the unique {roomId, clientId} makes a retried command return its first result instead of
 * appending again.
 */
const commitSchema = new Schema(
  {
    _id: { type: String, required: true },
    roomId: { type: String, required: true },
    seq: { type: Number, required: true },
    lastSeq: { type: Number, required: true },
    clientId: { type: String },
    /** The stored events ({ seq, type, at, actor, data, audience, hash, prevHash }) as JSON text. */
    eventsJson: { type: String },
    /** The stored events of commits written before eventsJson. */
    events: { type: [Schema.Types.Mixed], default: undefined },
    at: { type: Date, required: true },
  },
  { versionKey: false, minimize: false, strict: 'throw' },
);
commitSchema.index({ roomId: 1, lastSeq: 1 });
commitSchema.index(
  { roomId: 1, clientId: 1 },
  { unique: true, partialFilterExpression: { clientId: { $exists: true } } },
);

/** What list queries, candidacies and the scheduler need to know of a room, kept beside its log. */
const roomSchema = new Schema(
  {
    _id: { type: String, required: true },
    title: { type: String, required: true },
    jobId: { type: String, default: null },
    clientId: { type: String, required: true },
    freelancerId: { type: String, required: true },
    interviewerIds: { type: [String], default: [] },
    /** Everyone named in the room (client, interviewers, freelancer): list queries use it. */
    memberIds: { type: [String], default: [] },
    agencyId: { type: String, default: null },
    phase: { type: String, required: true },
    seq: { type: Number, required: true },
    lastActivityAt: { type: Date, required: true },
    createdAt: { type: Date, required: true },
    /** The open proposal { version, authorSide }, for candidacy lists (offers first). */
    openProposal: { type: Schema.Types.Mixed, default: null },
    /** When the time rules next have something to do (null: nothing pending). */
    nextDueAt: { type: Date, default: null },
  },
  { versionKey: false, minimize: false, strict: 'throw' },
);
roomSchema.index({ memberIds: 1, lastActivityAt: -1 });
roomSchema.index({ agencyId: 1, lastActivityAt: -1 });
roomSchema.index({ freelancerId: 1 });
roomSchema.index({ nextDueAt: 1 });

/**
 * A room's folded state at some seq, so loading a room folds only the log after it. Written every
 * few dozen events, apart from the room summary that changes with each one.
 */
const snapshotSchema = new Schema(
  {
    _id: { type: String, required: true },
    seq: { type: Number, required: true },
    /** Hash of the event at seq: the next event's prevHash. */
    hash: { type: String, default: null },
    /** The state as JSON text: its keys are data (ids), not field names MongoDB should see. */
    state: { type: String, required: true },
    /** The shape of `state` (SNAPSHOT_FORMAT); a snapshot of another shape is not read. */
    format: { type: Number, default: 1 },
  },
  { versionKey: false, strict: 'throw' },
);

/** The last seq a user has read in a room: read anywhere, cleared everywhere. */
const readPositionSchema = new Schema(
  {
    roomId: { type: String, required: true },
    userId: { type: String, required: true },
    seq: { type: Number, required: true },
  },
  { versionKey: false, strict: 'throw' },
);
readPositionSchema.index({ userId: 1, roomId: 1 }, { unique: true });
readPositionSchema.index({ roomId: 1 });

/** Profiles as the platform's tokens describe them. */
const userSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    agency: { type: { id: String, role: String }, default: null, _id: false },
    firstSeenAt: { type: Date, required: true },
    lastSeenAt: { type: Date, required: true },
  },
  { versionKey: false, strict: 'throw' },
);
userSchema.index({ 'agency.id': 1 });

const notificationSchema = new Schema(
  {
    userId: { type: String, required: true },
    kind: { type: String, required: true },
    roomId: { type: String, required: true },
    text: { type: String, required: true },
    at: { type: Date, required: true },
    read: { type: Boolean, default: false },
    /** The event that caused it: one notification per (user, room, seq). */
    seq: { type: Number, required: true },
  },
  { versionKey: false, strict: 'throw' },
);
notificationSchema.index({ userId: 1, read: 1, at: -1 });
notificationSchema.index({ userId: 1, roomId: 1, seq: 1, kind: 1 }, { unique: true });

/** A lease one process holds to run the scheduler; it expires if that process dies. */
const leaseSchema = new Schema(
  {
    _id: { type: String, required: true },
    owner: { type: String, required: true },
    until: { type: Date, required: true },
  },
  { versionKey: false, strict: 'throw' },
);

export type CommitDoc = InferSchemaType<typeof commitSchema>;
export type RoomDoc = InferSchemaType<typeof roomSchema>;

function bindModels(connection: Connection) {
  return {
    Commit: connection.model('Commit', commitSchema, 'commits'),
    Room: connection.model('Room', roomSchema, 'rooms'),
    Snapshot: connection.model('Snapshot', snapshotSchema, 'snapshots'),
    User: connection.model('User', userSchema, 'users'),
    Notification: connection.model('Notification', notificationSchema, 'notifications'),
    Lease: connection.model('Lease', leaseSchema, 'leases'),
    ReadPosition: connection.model('ReadPosition', readPositionSchema, 'readPositions'),
  };
}

export type Models = ReturnType<typeof bindModels>;

/** Binds the models to a connection and makes sure their indexes exist. */
export async function createModels(connection: Connection): Promise<Models> {
  const models = bindModels(connection);
  await Promise.all([
    models.Commit.init(),
    models.Room.init(),
    models.Snapshot.init(),
    models.User.init(),
    models.Notification.init(),
    models.Lease.init(),
    models.ReadPosition.init(),
  ]);
  return models;
}
