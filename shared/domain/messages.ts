import type { MessageIndex, MessageMeta } from '../schemas/room.js';

/**
 * A room's messages (their index: author, flags, attachments; the text lives in the log), in
 * chunks of MESSAGE_CHUNK seqs: chunk floor(seq / MESSAGE_CHUNK), and in it the message at
 * offset seq % MESSAGE_CHUNK. Folding a message copies its chunk and the list of chunks, not
 * every message of the room, so a long room stays cheap to keep up to date (a single flat record
 * made each message cost as much as the room's length). Keys are small integers on purpose: an
 * object keyed 0…127 is copied in a fraction of a µs, one keyed by seqs in the thousands (sparse
 * from 0) a hundred times slower.
 */
export const MESSAGE_CHUNK = 128;

const chunkOf = (seq: number): string => String(Math.floor(seq / MESSAGE_CHUNK));
const offsetOf = (seq: number): string => String(seq % MESSAGE_CHUNK);

/** The message posted at `seq`, if there is one. */
export function messageAt(messages: MessageIndex, seq: number): MessageMeta | undefined {
  const chunk = Object.hasOwn(messages, chunkOf(seq)) ? messages[chunkOf(seq)] : undefined;
  return chunk && Object.hasOwn(chunk, offsetOf(seq)) ? chunk[offsetOf(seq)] : undefined;
}

/** The index with `meta` added or replaced (a new object; the old one is unchanged). */
export function withMessage(messages: MessageIndex, meta: MessageMeta): MessageIndex {
  const key = chunkOf(meta.seq);
  const chunk = Object.hasOwn(messages, key) ? messages[key] : undefined;
  return { ...messages, [key]: { ...chunk, [offsetOf(meta.seq)]: meta } };
}

/** Every message, in seq order. */
export function messageList(messages: MessageIndex): MessageMeta[] {
  return Object.values(messages)
    .flatMap((chunk) => Object.values(chunk))
    .sort((a, b) => a.seq - b.seq);
}
