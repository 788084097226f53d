import { trusted } from 'mongoose';
import { visibleTo, type Actor, type RoomState, type StoredEvent } from '../../shared/domain/index.js';
import type { Logger } from '../logger.js';
import { ObjectId } from 'mongodb';
import type { Models } from '../store/models.js';

interface NotificationDoc {
  _id: ObjectId;
  userId: string;
  kind: string;
  roomId: string;
  text: string;
  at: Date;
  seq: number;
  read?: boolean;
}

export interface NotificationView {
  id: string;
  kind: string;
  roomId: string;
  text: string;
  at: string;
}

/** What each notifying event says; events not listed here (messages, files) only count as unread. */
const TEXTS: Record<string, (who: string, e: StoredEvent) => string> = {
  'terms.proposed': (who, e) =>
    `${who} proposed terms (version ${String((e.data as { version?: number }).version ?? '')})`,
  'terms.accepted': (who) => `${who} accepted the terms`,
  'terms.declined': (who) => `${who} declined the terms`,
  'terms.withdrawn': (who) => `${who} withdrew the proposal`,
  'contract.started': () => 'The contract has started',
  'contract.ended': (who) => `${who} ended the contract`,
  'milestone.funded': (who) => `${who} funded a milestone`,
  'milestone.submitted': (who) => `${who} submitted a milestone for review`,
  'milestone.changesRequested': (who) => `${who} requested changes to a milestone`,
  'milestone.released': (who) => `${who} released a milestone`,
  'statusReport.submitted': (who) => `${who} filed a status report`,
  'feedback.revealed': () => 'Feedback has been revealed',
  'reminder.inactivity': () =>
    'This contract has been inactive; it will close automatically if nothing happens',
  'reminder.statusReport': () => 'A weekly status report is due',
  'members.added': (who) => `${who} added you to the room`,
};

/**
 * Notifies every party (except whoever acted) of the events that matter, through the same
 * visibility rule as everything else: agency managers are cc'd on whatever reaches their members.
 */
export class Notifier {
  constructor(
    private readonly models: Models,
    private readonly deliver: (userId: string, notification: NotificationView) => void,
    private readonly logger: Logger,
  ) {}

  /** Never fails: a notification that cannot be stored is logged, and the events stand. */
  async onAppended(room: RoomState, events: StoredEvent[]): Promise<void> {
    // Messages and files notify nobody: most commits stop here.
    if (!events.some((e) => TEXTS[e.type])) return;
    try {
      await this.notify(room, events);
    } catch (err) {
      this.logger.error({ err, roomId: room.id }, 'notifications not stored');
    }
  }

  private async notify(room: RoomState, events: StoredEvent[]): Promise<void> {
    const notifying = events.filter((e) => TEXTS[e.type]);
    if (notifying.length === 0) return;
    const parties = await this.parties(room);
    const names = await this.names(notifying.map((e) => e.actor.id));
    const docs: NotificationDoc[] = [];
    for (const event of notifying) {
      const who = event.actor.side === 'system' ? 'Workroom' : (names.get(event.actor.id) ?? event.actor.id);
      const text = `${TEXTS[event.type]!(who, event)} — “${room.title}”`;
      const kind = event.type === 'terms.proposed' && isOffer(room, event) ? 'offer' : event.type;
      for (const party of parties) {
        if (party.id === event.actor.id || !visibleTo(event, party)) continue;
        if (event.type === 'members.added' && !addedUser(event, party.id)) continue;
        docs.push({
          _id: new ObjectId(),
          userId: party.id,
          kind,
          roomId: room.id,
          text,
          at: new Date(event.at),
          seq: event.seq,
          read: false,
        });
      }
    }
    if (docs.length === 0) return;
    // One per (user, room, seq, kind): a retried delivery after a crash inserts nothing twice.
    const failed = new Set<number>();
    try {
      await this.models.Notification.collection.insertMany(docs, { ordered: false });
    } catch (err) {
      const writeErrors = (err as { writeErrors?: Array<{ index: number }> }).writeErrors;
      if (!writeErrors) {
        this.logger.error({ err, roomId: room.id }, 'notifications not stored');
        return;
      }
      for (const we of writeErrors) failed.add(we.index);
    }
    docs.forEach((doc, i) => {
      if (failed.has(i)) return;
      this.deliver(doc.userId, {
        id: String(doc._id),
        kind: doc.kind,
        roomId: doc.roomId,
        text: doc.text,
        at: doc.at.toISOString(),
      });
    });
  }

  /** Everyone who is a party: both sides' members and the agency's managers. */
  private async parties(room: RoomState): Promise<Actor[]> {
    const parties: Actor[] = [
      { id: room.clientId, side: 'client', role: 'client' },
      ...room.interviewerIds.map((id): Actor => ({ id, side: 'client', role: 'interviewer' })),
      { id: room.freelancerId, side: 'freelancer', role: 'freelancer' },
    ];
    if (room.agencyId) {
      const managers = await this.models.User.find(
        { 'agency.id': room.agencyId, 'agency.role': 'manager' },
        { _id: 1 },
      ).lean();
      for (const m of managers as Array<{ _id: string }>) {
        if (m._id !== room.clientId && m._id !== room.freelancerId) {
          parties.push({
            id: m._id,
            side: 'freelancer',
            role: 'agency_manager',
            onBehalfOf: room.freelancerId,
          });
        }
      }
    }
    return parties;
  }

  private async names(ids: string[]): Promise<Map<string, string>> {
    const users = await this.models.User.find(
      { _id: trusted({ $in: [...new Set(ids)] }) },
      { name: 1 },
    ).lean();
    return new Map(users.map((u) => [u._id, u.name]));
  }
}

/** A proposal made while the room was not yet a contract is an offer. */
function isOffer(room: RoomState, event: StoredEvent): boolean {
  return room.startedAt == null || new Date(room.startedAt) > new Date(event.at);
}

function addedUser(event: StoredEvent, userId: string): boolean {
  const ids = (event.data as { userIds?: string[] }).userIds;
  return Array.isArray(ids) && ids.includes(userId);
}
