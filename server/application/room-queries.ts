import { trusted } from 'mongoose';
import type { Collection } from 'mongodb';
import {
  emptyRoomState,
  resolveParty,
  visibleTo,
  type Actor,
  type PartyActor,
  type StoredEvent,
  type UserIdentity,
} from '../../shared/domain/index.js';
import type { Phase } from '../../shared/schemas/common.js';
import type { Candidacy } from '../../shared/schemas/http.js';
import type { Models, RoomDoc } from '../store/models.js';
import { byPendingOfferThenActivity, candidacyOf } from './candidacy.js';
import type { HiddenEvent } from './evidence.js';
import { EVENTS_PROJECTION, eventsOf } from './room-log.js';

const UNREAD_CAP = 999;

/** The read side: lists, unread counts, candidacies and notifications, filtered per viewer. */
export class RoomQueries {
  private readonly commits: Collection;

  constructor(
    private readonly models: Models,
    /** Resolves when this process's pending room summaries are written (read your own writes). */
    private readonly summariesWritten: () => Promise<void> = async () => {},
  ) {
    this.commits = models.Commit.collection as unknown as Collection;
  }

  /** Rooms the user is a party to, newest activity first, with unread counts and their role. */
  async listRooms(user: UserIdentity) {
    await this.summariesWritten();
    const rooms = await this.models.Room.find(partyFilter(user), ROOM_FIELDS)
      .sort({ lastActivityAt: -1 })
      .limit(500)
      .lean();
    const reads = await this.readPositions(
      user.id,
      rooms.map((r) => r._id),
    );
    return Promise.all(
      rooms.map(async (room) => {
        const actor = partyOf(room, user)!;
        const read = reads.get(room._id) ?? 0;
        return {
          id: room._id,
          title: room.title,
          phase: room.phase as Phase,
          seq: room.seq,
          unread: room.seq > read ? await this.countUnread(room._id, read, actor) : 0,
          lastActivityAt: room.lastActivityAt.toISOString(),
          myRole: actor.role,
        };
      }),
    );
  }

  /** Candidacies as freelancer, as client (per job), and as agency manager (the whole team). */
  async candidacies(user: UserIdentity): Promise<Candidacy[]> {
    await this.summariesWritten();
    const rooms = await this.models.Room.find(partyFilter(user), ROOM_FIELDS).limit(2_000).lean();
    return rooms
      .map((room) =>
        candidacyOf(
          {
            id: room._id,
            title: room.title,
            jobId: room.jobId ?? null,
            phase: room.phase as Phase,
            clientId: room.clientId,
            freelancerId: room.freelancerId,
            agencyId: room.agencyId ?? null,
            seq: room.seq,
            lastActivityAt: room.lastActivityAt.toISOString(),
            openProposal: (room.openProposal as Candidacy['openProposal'] | undefined) ?? null,
          },
          partyOf(room, user)!.role,
        ),
      )
      .sort(byPendingOfferThenActivity);
  }

  async notifications(userId: string) {
    const list = await this.models.Notification.find({ userId }).sort({ read: 1, at: -1 }).limit(200).lean();
    return list.map((n) => ({
      id: String(n._id),
      kind: n.kind,
      roomId: n.roomId,
      text: n.text,
      at: n.at.toISOString(),
      read: n.read,
    }));
  }

  /** Every event after `after` that this viewer may see, in seq order, at most `limit`. */
  async visibleEvents(roomId: string, viewer: Actor, after: number, limit: number): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    let cursor = after;
    // Hidden events do not count against the page: keep reading until the page is full.
    while (out.length < limit) {
      const docs = await this.commits
        .find({ roomId, lastSeq: { $gt: cursor } }, { projection: { ...EVENTS_PROJECTION, lastSeq: 1 } })
        .sort({ lastSeq: 1 })
        .limit(limit)
        .toArray();
      if (docs.length === 0) break;
      for (const doc of docs) {
        for (const event of eventsOf(doc)) {
          if (event.seq > cursor && out.length < limit && visibleTo(event, viewer)) out.push(event);
        }
        cursor = doc.lastSeq as number;
        if (out.length >= limit) break;
      }
    }
    return out;
  }

  /** The whole log as this viewer may see it; hidden events keep their place as seq and hashes. */
  async history(roomId: string, viewer: Actor): Promise<Array<StoredEvent | HiddenEvent>> {
    const docs = await this.commits
      .find({ roomId }, { projection: EVENTS_PROJECTION })
      .sort({ lastSeq: 1 })
      .toArray();
    return docs.flatMap((doc) =>
      eventsOf(doc).map((e) =>
        visibleTo(e, viewer) ? e : { seq: e.seq, hidden: true as const, hash: e.hash, prevHash: e.prevHash },
      ),
    );
  }

  async markRead(roomId: string, userId: string, seq: number): Promise<number> {
    const doc = await this.models.ReadPosition.findOneAndUpdate(
      { userId, roomId },
      { $max: { seq } },
      { upsert: true, returnDocument: 'after', lean: true },
    );
    return doc?.seq ?? seq;
  }

  private async readPositions(userId: string, roomIds: string[]): Promise<Map<string, number>> {
    const docs = await this.models.ReadPosition.find({ userId, roomId: trusted({ $in: roomIds }) }).lean();
    return new Map(docs.map((d) => [d.roomId, d.seq]));
  }

  /** Events after the read position that others appended and this viewer may see. */
  private async countUnread(roomId: string, read: number, viewer: Actor): Promise<number> {
    const docs = await this.commits
      .find({ roomId, lastSeq: { $gt: read } }, { projection: EVENTS_PROJECTION })
      .limit(UNREAD_CAP)
      .toArray();
    let unread = 0;
    for (const doc of docs) {
      for (const e of eventsOf(doc)) {
        if (e.seq > read && e.actor.id !== viewer.id && visibleTo(e, viewer)) unread++;
      }
    }
    return Math.min(unread, UNREAD_CAP);
  }
}

const ROOM_FIELDS = {
  title: 1,
  jobId: 1,
  clientId: 1,
  freelancerId: 1,
  interviewerIds: 1,
  agencyId: 1,
  phase: 1,
  seq: 1,
  lastActivityAt: 1,
  openProposal: 1,
} as const;

type RoomMembers = Pick<RoomDoc, '_id' | 'seq' | 'clientId' | 'freelancerId' | 'interviewerIds' | 'agencyId'>;

function partyFilter(user: UserIdentity) {
  const or: object[] = [{ memberIds: user.id }];
  if (user.agency?.role === 'manager') or.push({ agencyId: user.agency.id });
  return { $or: or };
}

/** The same party rules as the domain, applied to a room summary. */
function partyOf(room: RoomMembers, user: UserIdentity): PartyActor | null {
  return resolveParty(
    {
      ...emptyRoomState(room._id),
      seq: room.seq,
      clientId: room.clientId,
      freelancerId: room.freelancerId,
      interviewerIds: room.interviewerIds,
      agencyId: room.agencyId ?? null,
    },
    user,
  ) as PartyActor | null;
}
