import type { UserIdentity } from '../../shared/domain/index.js';
import type { Logger } from '../logger.js';
import type { Models } from '../store/models.js';
import type { RoomService } from './room-service.js';

const REFRESH_MS = 60_000;

/**
 * Profiles as the platform's tokens describe them. A room may name a freelancer the server has
 * not seen yet; when that user first appears with an agency, their rooms join that agency.
 */
export class UserDirectory {
  /** What this process last wrote per user, so a busy user costs one write a minute. */
  private readonly recent = new Map<string, { key: string; at: number }>();

  constructor(
    private readonly models: Models,
    private readonly rooms: RoomService,
    private readonly logger: Logger,
  ) {}

  async seen(user: UserIdentity): Promise<void> {
    const key = JSON.stringify([user.name, user.agency ?? null]);
    const last = this.recent.get(user.id);
    if (last && last.key === key && Date.now() - last.at < REFRESH_MS) return;
    this.recent.set(user.id, { key, at: Date.now() });
    if (this.recent.size > 100_000) this.recent.clear();

    const now = new Date();
    const before = await this.models.User.findOneAndUpdate(
      { _id: user.id },
      {
        $set: { name: user.name ?? user.id, agency: user.agency ?? null, lastSeenAt: now },
        $setOnInsert: { firstSeenAt: now },
      },
      { upsert: true, returnDocument: 'before', lean: true },
    );
    const agencyId = user.agency?.id;
    if (agencyId && before?.agency?.id !== agencyId) await this.assignAgency(user.id, agencyId);
  }

  /** Rooms of this freelancer that have no agency yet get the one the user now belongs to. */
  private async assignAgency(freelancerId: string, agencyId: string): Promise<void> {
    const rooms = await this.models.Room.find({ freelancerId, agencyId: null }, { _id: 1 }).lean();
    for (const room of rooms) {
      const result = await this.rooms.applySystemCommand(room._id, { type: 'room.assignAgency', agencyId });
      if (result) this.logger.info({ roomId: room._id, agencyId }, 'room joined the freelancer’s agency');
    }
  }

  async name(userId: string): Promise<string> {
    return (await this.models.User.findById(userId, { name: 1 }).lean())?.name ?? userId;
  }
}
