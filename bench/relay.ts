/**
 * The baseline for `npm run bench`: a bare Socket.IO relay that joins rooms, numbers each message,
 * acks the sender and broadcasts to the room. No authentication, validation, persistence or
 * visibility: what a room costs when nothing is kept.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';

interface Join {
  roomId: string;
}
interface Command {
  roomId: string;
  clientId: string;
  command: { type: string; text?: string };
}
type Ack = (reply: object) => void;

const http = createServer();
const io = new Server(http, { maxHttpBufferSize: 256 * 1024 });
const seqs = new Map<string, number>();

io.on('connection', (socket) => {
  socket.on('room:join', async ({ roomId }: Join, ack: Ack) => {
    await socket.join(roomId);
    ack({ ok: true, room: null, events: [], seq: seqs.get(roomId) ?? 0 });
  });
  socket.on('room:command', ({ roomId, command }: Command, ack: Ack) => {
    const seq = (seqs.get(roomId) ?? 0) + 1;
    seqs.set(roomId, seq);
    const event = {
      seq,
      type: 'message.posted',
      at: new Date().toISOString(),
      actor: { id: 'anyone' },
      data: { text: command.text },
    };
    ack({ ok: true, seq, events: [event] });
    io.to(roomId).emit('room:event', { roomId, event });
  });
});

http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = http.address() as AddressInfo;
  console.log(JSON.stringify({ msg: 'relay listening', url: `http://127.0.0.1:${port}` }));
});
process.on('SIGTERM', () => io.close(() => process.exit(0)));
