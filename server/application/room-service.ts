import { randomBytes } from 'node:crypto';
import {
  decide,
  emptyRoomState,
  evolve,
  nextDeadline,
  resolveParty,
  SYSTEM_ACTOR,
  tick,
  type Actor,
  type Command,
  type DomainConfig,
  type EventDraft,
  type InternalCommand,
  type RoomState,
  type StoredEvent,
  type UserIdentity,
} from '../../shared/domain/index.js';
import type { Logger } from '../logger.js';
import { CommitConflict, type CommitWriter } from '../store/commit-writer.js';
import type { Models } from '../store/models.js';
import { ApiError } from './errors.js';
import { hashEvent } from './evidence.js';
import { CommitPipeline } from './commit-pipeline.js';
import { KeyedQueue } from './keyed-queue.js';
import { RoomSummaries, roomFields, snapshotDue } from './room-summaries.js';
import type { CachedRoom } from './room-cache.js';
import { RoomCopies } from './room-copies.js';
import { ReleasingMap } from './releasing-map.js';
import type { RoomAppends } from './room-appends.js';
import { commitDoc, RoomLog } from './room-log.js';
import { Tracker } from './tracker.js';

type FileShareCommand = Extract<InternalCommand, { type: 'file.share' }>;

export interface CommandResult {
  roomId: string;
  seq: number;
  /** Every event the command appended (callers filter them for each viewer). */
  events: StoredEvent[];
  /** True when this was a retry of a clientId already applied: nothing new was appended. */
  duplicate: boolean;
  /** Who the command ran as (the sender's view of the result is filtered for this party). */
  actor: Actor;
}

/** Called after events are durable and the sender has been answered: broadcasts, notifications. */
export type AppendedListener = (room: RoomState, events: StoredEvent[]) => void;

const MAX_ATTEMPTS = 8;

/** A command decided in its room's queue; its outcome is awaited outside, so the queue moves on. */
interface Decided<T> {
  done: Promise<T>;
}

/**
 * A command's path (DESIGN.md): load state, decide, append with the hash chain, answer once
 * durable. The commands of one room are decided one at a time in this process, each on the room
 * after the ones before it, while their commits are still on their way (CommitPipeline); across
 * processes a commit's `_id` (its room and first seq, commitKey) arbitrates and the loser reloads
 * and retries.
 */
export class RoomService {
  private readonly queue = new KeyedQueue();
  private readonly pipeline: CommitPipeline;
  private readonly copies: RoomCopies;
  private readonly running = new Tracker();
  /** Commands with a clientId whose commit is on its way, by room and clientId. */
  private readonly onTheirWay = new ReleasingMap<string, Promise<CommandResult>>();
  private readonly log: RoomLog;
  private readonly listeners: AppendedListener[] = [];
  private readonly summaries: RoomSummaries;

  constructor(
    private readonly models: Models,
    private readonly writer: CommitWriter,
    private readonly config: DomainConfig,
    private readonly logger: Logger,
  ) {
    this.log = new RoomLog(models);
    this.summaries = new RoomSummaries(models, config, logger);
    // A refused commit means another process appended: the next command catches up first.
    this.pipeline = new CommitPipeline(writer, (roomId) => this.copies.markBehind(roomId));
    this.copies = new RoomCopies(this.log, this.pipeline, logger);
  }

  onAppended(listener: AppendedListener): void {
    this.listeners.push(listener);
  }

  /**
   * Shares appends with the other processes: what this one appends is announced, and what another
   * one appended is folded into the cached room. Without it, two processes taking turns in a room
   * would have every other commit refused and decided again.
   */
  shareAppends(appends: RoomAppends): void {
    this.onAppended((room, events) => appends.publish(room.id, events));
    appends.subscribe((roomId, events) => this.copies.appendedElsewhere(roomId, events));
  }

  /** Creates a room in phase interview; the creator is its client. */
  async create(
    user: UserIdentity,
    input: {
      title: string;
      freelancerId: string;
      jobId?: string | undefined;
      interviewerIds?: string[] | undefined;
    },
  ): Promise<RoomState> {
    const roomId = `r_${randomBytes(12).toString('base64url')}`;
    const freelancer = await this.models.User.findById(input.freelancerId).lean();
    const command: InternalCommand = {
      type: 'room.create',
      title: input.title,
      clientId: user.id,
      freelancerId: input.freelancerId,
      ...(input.jobId ? { jobId: input.jobId } : {}),
      ...(input.interviewerIds ? { interviewerIds: input.interviewerIds } : {}),
      ...(freelancer?.agency?.id ? { agencyId: freelancer.agency.id } : {}),
    };
    const actor: Actor = { id: user.id, side: 'client', role: 'client' };
    const empty = emptyRoomState(roomId);
    const events = this.stamp(
      roomId,
      empty,
      null,
      unwrap(decide(empty, command, actor, new Date(), this.config)),
      actor,
    );
    await this.writer.write(commitDoc(roomId, events, undefined));
    const state = events.reduce(evolve, empty);
    const last = events[events.length - 1]!;
    await this.models.Room.create({
      _id: roomId,
      ...roomFields(state, this.config),
      createdAt: new Date(last.at),
    });
    this.copies.remember(roomId, { state, lastHash: last.hash, snapshotSeq: 0 });
    this.announce(state, events);
    return state;
  }

  /** Runs a party's command; a repeated clientId returns the first result and appends nothing. */
  execute(
    roomId: string,
    user: UserIdentity,
    clientId: string | undefined,
    command: Command,
  ): Promise<CommandResult> {
    return this.decideAsParty(roomId, user, clientId, command);
  }

  /** Records a file the user uploaded as shared in the room (`file.shared`, the uploader as actor). */
  shareFile(
    roomId: string,
    user: UserIdentity,
    file: Omit<FileShareCommand, 'type'>,
  ): Promise<CommandResult> {
    return this.decideAsParty(roomId, user, undefined, { type: 'file.share', ...file });
  }

  private decideAsParty(
    roomId: string,
    user: UserIdentity,
    clientId: string | undefined,
    command: Command | InternalCommand,
  ): Promise<CommandResult> {
    // Decide on this process's copy of the room; the unique index tells when another process got
    // ahead. Only a conflict, a refusal or an unknown party costs a read of the log.
    return this.decideWithRetries(roomId, async (fresh) => {
      // No await between reading the tip and submitting what is decided on it (see RoomCopies.latest).
      const room =
        fresh || this.copies.isBehind(roomId)
          ? await this.copies.caughtUp(roomId)
          : (this.copies.latest(roomId) ?? (await this.copies.read(roomId)));
      const actor = room && resolveParty(room.state, user);
      if (!room || !actor) {
        if (fresh) throw notAParty();
        return 'read again';
      }
      // The same clientId still on its way (a client that resent at once): its result.
      const sameClientId = clientId && this.onTheirWay.get(clientKey(roomId, clientId));
      if (sameClientId) return { done: sameClientId.then((first) => ({ ...first, duplicate: true, actor })) };
      const result = decide(room.state, command, actor, new Date(), this.config);
      if (!result.ok) {
        // A retry of a command that already ran is answered with its first result.
        const earlier = clientId ? await this.commitByClientId(roomId, clientId, actor) : null;
        if (earlier) return { done: Promise.resolve(earlier) };
        if (fresh) throw new ApiError(result.error.code, result.error.message);
        return 'read again';
      }
      return { done: this.append(roomId, room, result.events, actor, clientId) };
    });
  }

  /** Appends what a system rule produces (file shares, agency assignment, the time rules). */
  appendSystem(
    roomId: string,
    produce: (state: RoomState) => { drafts: EventDraft[]; actor: Actor } | null,
  ): Promise<CommandResult | null> {
    return this.decideWithRetries(roomId, async () => {
      const room = await this.copies.caughtUp(roomId);
      const next = room && produce(room.state);
      if (!room || !next || next.drafts.length === 0) return { done: Promise.resolve(null) };
      return { done: this.append(roomId, room, next.drafts, next.actor, undefined) };
    });
  }

  /**
   * Runs `step` in the room's queue and awaits its outcome outside it, so the queue moves on.
   * Decides again when another process appended first (CommitConflict), or when the step asks to
   * read the room afresh (`fresh` is then true).
   */
  private decideWithRetries<T>(
    roomId: string,
    step: (fresh: boolean) => Promise<Decided<T> | 'read again'>,
  ): Promise<T> {
    return this.running.track(async () => {
      let fresh = false;
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const decided = await this.queue.run(roomId, () => step(fresh));
        if (decided === 'read again') {
          fresh = true;
          continue;
        }
        try {
          return await decided.done;
        } catch (err) {
          if (!(err instanceof CommitConflict)) throw err;
        }
      }
      throw new ApiError('CONFLICT', 'The room is busy; try again');
    });
  }

  /** Applies an internal command of the system (agency assignment) unless the rules refuse it. */
  applySystemCommand(roomId: string, command: InternalCommand): Promise<CommandResult | null> {
    return this.appendSystem(roomId, (state) => {
      const result = decide(state, command, SYSTEM_ACTOR, new Date(), this.config);
      return result.ok ? { drafts: result.events, actor: SYSTEM_ACTOR } : null;
    });
  }

  /** Applies the due time rules of a room (auto-release, reveal, reminders, inactivity close). */
  runTimeRules(roomId: string, now: Date): Promise<CommandResult | null> {
    return this.appendSystem(roomId, (state) => ({
      drafts: tick(state, now, this.config),
      actor: SYSTEM_ACTOR,
    }));
  }

  /**
   * Recomputes when a room's time rules are next due, after a pass found nothing to do (a
   * deadline that was recorded early); never leaves one in the past, so the scheduler cannot spin.
   */
  async refreshDeadline(roomId: string): Promise<void> {
    const state = await this.state(roomId);
    if (!state) return;
    const next = nextDeadline(state, this.config);
    const stuck = next !== null && next.getTime() <= Date.now();
    await this.models.Room.updateOne(
      { _id: roomId },
      { $set: { nextDueAt: stuck ? new Date(Date.now() + 60_000) : next } },
    );
  }

  /** The room's current state, or null if there is no such room. */
  async state(roomId: string): Promise<RoomState | null> {
    return (await this.queue.run(roomId, () => this.copies.read(roomId)))?.state ?? null;
  }

  /** The state and the caller's party in it; outsiders learn nothing, not even that it exists. */
  async access(roomId: string, user: UserIdentity): Promise<{ state: RoomState; actor: Actor }> {
    const state = await this.state(roomId);
    const actor = state && resolveParty(state, user);
    if (!state || !actor) throw notAParty();
    return { state, actor };
  }

  /** Waits for commands in flight (graceful shutdown). */
  async drain(): Promise<void> {
    await this.running.idle();
    await this.pipeline.drained();
    await this.writer.drain();
    await this.summaries.written();
  }

  /** Resolves once every room summary this process has marked is written: lists read their own writes. */
  summariesWritten(): Promise<void> {
    return this.summaries.written();
  }

  /**
   * Stamps the drafts onto the room and hands the commit to the pipeline; resolves once it is
   * durable. Called in the room's queue, so the next command is decided on the new tip at once.
   */
  private async append(
    roomId: string,
    room: CachedRoom,
    drafts: EventDraft[],
    actor: Actor,
    clientId: string | undefined,
  ): Promise<CommandResult> {
    const events = this.stamp(roomId, room.state, room.lastHash, drafts, actor);
    const state = events.reduce(evolve, room.state);
    const last = events[events.length - 1]!;
    const due = snapshotDue(roomId, state.seq, room.snapshotSeq);
    const after: CachedRoom = { state, lastHash: last.hash, snapshotSeq: due ? state.seq : room.snapshotSeq };
    const written = this.pipeline.submit(roomId, commitDoc(roomId, events, clientId), after, () => {
      this.copies.remember(roomId, after);
      this.summaries.mark(roomId, state, due ? last.hash : undefined);
      this.announce(state, events);
    });
    const result: CommandResult = { roomId, seq: state.seq, events, duplicate: false, actor };
    if (!clientId) {
      await written;
      return result;
    }
    // Registered until answered, so a resend of the clientId meanwhile gets this answer.
    const key = clientKey(roomId, clientId);
    const answer = written.then(
      () => result,
      (err: unknown) => this.earlierOrThrow(err, roomId, clientId, actor),
    );
    this.onTheirWay.set(key, answer);
    try {
      return await answer;
    } finally {
      if (this.onTheirWay.get(key) === answer) this.onTheirWay.delete(key);
    }
  }

  /** A commit refused for its clientId resent one already in the log: answered with that one. */
  private async earlierOrThrow(
    err: unknown,
    roomId: string,
    clientId: string,
    actor: Actor,
  ): Promise<CommandResult> {
    if (err instanceof CommitConflict && err.on === 'clientId') {
      const earlier = await this.commitByClientId(roomId, clientId, actor);
      if (earlier) return earlier;
    }
    throw err;
  }

  private stamp(
    roomId: string,
    state: RoomState,
    lastHash: string | null,
    drafts: EventDraft[],
    actor: Actor,
  ): StoredEvent[] {
    const at = new Date().toISOString();
    let prevHash = lastHash;
    let seq = state.seq;
    return drafts.map((draft) => {
      seq += 1;
      // One object per event, in the wire order of its fields; the hash is filled in last.
      const event = {
        seq,
        type: draft.type,
        at,
        actor,
        data: draft.data,
        audience: draft.audience,
        hash: '',
        prevHash,
      } as StoredEvent;
      event.hash = hashEvent(roomId, event);
      prevHash = event.hash;
      return event;
    });
  }

  private announce(state: RoomState, events: StoredEvent[]): void {
    // After the sender's answer, which is written while the promise reactions of this turn run;
    // right after them, not on the next turn of the event loop, which waits for every other
    // socket read first (tens of milliseconds under load).
    process.nextTick(() => {
      for (const listener of this.listeners) {
        try {
          listener(state, events);
        } catch (err) {
          this.logger.error({ err }, 'appended listener failed');
        }
      }
    });
  }

  private async commitByClientId(
    roomId: string,
    clientId: string,
    actor: Actor,
  ): Promise<CommandResult | null> {
    const commit = await this.log.byClientId(roomId, clientId);
    return commit && { roomId, seq: commit.lastSeq, events: commit.events, duplicate: true, actor };
  }
}

function clientKey(roomId: string, clientId: string): string {
  return `${roomId}\u0000${clientId}`;
}

function unwrap(result: ReturnType<typeof decide>): EventDraft[] {
  if (!result.ok) throw new ApiError(result.error.code, result.error.message);
  return result.events;
}

function notAParty(): ApiError {
  return new ApiError('FORBIDDEN', 'You are not a party to this room');
}
