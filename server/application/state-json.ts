import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RoomState } from '../../shared/domain/index.js';

/** Main-thread time one slice of the work may take before other work gets its turn. */
const SLICE_MS = 3;

/**
 * `JSON.stringify(state)`, the same text, made in slices of a few milliseconds with the event
 * loop free in between. A snapshot holds a room's whole state, and a long room's message index
 * makes it megabytes of text: in one piece it held up every socket of the process (8–17 ms for a
 * room of 20,000 messages, more for longer ones), and rooms that grow alike come due together.
 * A state is never changed once made, so it may be read across turns of the event loop.
 *
 * The state and each of its records (the message index by chunk, the files, ...) are written
 * member by member; anything deeper (a chunk of 128 messages, a file) in one go.
 */
export async function stateJson(state: RoomState): Promise<string> {
  let sliceStart = performance.now();
  const write = async (value: unknown, depth: number): Promise<string | undefined> => {
    // A state is plain JSON (RoomStateSchema): an object that is not an array is a record.
    if (depth === 0 || value === null || typeof value !== 'object' || Array.isArray(value))
      return JSON.stringify(value);
    const members: string[] = [];
    for (const [key, member] of Object.entries(value)) {
      const text = await write(member, depth - 1);
      // Left out as JSON.stringify leaves them out (undefined, functions).
      if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
      if (performance.now() - sliceStart > SLICE_MS) {
        await nextTurn();
        sliceStart = performance.now();
      }
    }
    return `{${members.join(',')}}`;
  };
  return (await write(state, 2))!;
}
