import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { command, ok } from '../support/socket-client.js';
import { sharedServer } from './shared-server.js';

/* Socket payloads no client of the protocol sends: refused with the error shape, or cut off. */
const { as, createRoom, seqOf } = sharedServer();

describe('hostile payloads', () => {
  it('answers every malformed payload with the error shape and appends nothing', async () => {
    const roomId = await createRoom();
    const alice = await as('alice');
    const before = await seqOf(roomId);
    const raw = alice as unknown as { emitWithAck: (event: string, ...args: unknown[]) => Promise<unknown> };
    const payloads: Array<[string, unknown]> = [
      ['room:command', null],
      ['room:command', 'string'],
      ['room:command', { roomId, clientId: randomUUID(), command: { type: 'message.post', text: 42 } }],
      [
        'room:command',
        { roomId, clientId: randomUUID(), command: { type: 'message.post', text: 'x'.repeat(10_001) } },
      ],
      [
        'room:command',
        { roomId, clientId: randomUUID(), command: { type: 'message.post', text: 'hi', extra: 1 } },
      ],
      [
        'room:command',
        { roomId: { $gt: '' }, clientId: randomUUID(), command: { type: 'message.post', text: 'hi' } },
      ],
      ['room:command', { roomId, clientId: { $ne: null }, command: { type: 'message.post', text: 'hi' } }],
      [
        'room:command',
        JSON.parse(
          `{"roomId":"${roomId}","clientId":"${randomUUID()}","command":{"type":"message.post","text":"hi","__proto__":{"admin":true}}}`,
        ),
      ],
      [
        'room:command',
        {
          roomId,
          clientId: randomUUID(),
          command: { type: 'feedback.submit', public: { rating: 9, comment: '' }, private: { score: 0 } },
        },
      ],
      ['room:join', { roomId, since: -1 }],
      ['room:join', { roomId: 'x'.repeat(10_000) }],
      ['room:sync', { roomId, since: 'zero' }],
      ['room:read', { roomId, seq: 1.5 }],
      ['room:typing', { roomId, typing: 'yes' }],
      ['room:nonexistent', { roomId }],
    ];
    for (const [event, payload] of payloads) {
      const reply = await raw.emitWithAck(event, payload);
      expect(reply, `${event} ${JSON.stringify(payload)?.slice(0, 80)}`).toMatchObject({
        ok: false,
        error: { code: 'INVALID' },
      });
    }
    expect(await seqOf(roomId)).toBe(before);
    expect(alice.connected).toBe(true);
  });

  it('disconnects a client that sends more than the transport allows, and the server carries on', async () => {
    const roomId = await createRoom();
    const alice = await as('alice');
    const disconnected = new Promise<string>((resolve) =>
      alice.on('disconnect', (reason) => resolve(reason)),
    );
    alice.emit(
      'room:command',
      { roomId, clientId: randomUUID(), command: { type: 'message.post', text: 'x'.repeat(400_000) } },
      () => {},
    );
    expect(await disconnected).toBeTruthy();
    const again = await as('alice');
    await ok(command(again, roomId, { type: 'message.post', text: 'still here' }));
  });
});
