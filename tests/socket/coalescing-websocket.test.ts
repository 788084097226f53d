import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  coalesceWrites,
  CoalescingWebSocketServer,
  pauseReading,
  SEND_BACKLOG_BYTES,
} from '../../server/transport/socket/coalescing-websocket.js';
import { until } from '../support/socket-client.js';

const opened: Array<Server | Socket | WebSocket | CoalescingWebSocketServer> = [];

/**
 * A real TCP connection on loopback: the server's end (writes coalesced), what the client reads,
 * and each hand-over of the server's data to the operating system (a stream's `_write` or
 * `_writev`: one system call each).
 */
async function connection(backlogLimit?: number) {
  const listener = createServer();
  opened.push(listener);
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const client = connect((listener.address() as AddressInfo).port, '127.0.0.1');
  const [server] = (await once(listener, 'connection')) as [Socket];
  opened.push(client, server);
  server.setNoDelay(true);
  coalesceWrites(server, backlogLimit);
  const handedOver: string[][] = [];
  const writeOne = server._write.bind(server);
  const writeMany = server._writev!.bind(server);
  server._write = (chunk: Buffer, encoding, callback) => {
    handedOver.push([String(chunk)]);
    writeOne(chunk, encoding, callback);
  };
  server._writev = (chunks, callback) => {
    handedOver.push(chunks.map(({ chunk }) => String(chunk)));
    writeMany(chunks, callback);
  };
  const chunks: string[] = [];
  client.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const received = (text: string) => until(() => chunks.join('').length >= text.length, 5_000, `"${text}"`);
  return { server, client, chunks, received, handedOver };
}

afterEach(() => {
  for (const handle of opened.splice(0)) {
    if (handle instanceof WebSocket) handle.terminate();
    else if ('destroy' in handle) handle.destroy();
    else handle.close();
  }
});

/** A WebSocket server as Engine.IO is given it, and a client connected to it on loopback. */
async function webSocketPair() {
  const wss = new CoalescingWebSocketServer({ port: 0, host: '127.0.0.1' });
  opened.push(wss);
  await once(wss, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const [server] = (await once(wss, 'connection')) as [WebSocket];
  await once(client, 'open');
  opened.push(client, server);
  /** Sends the client more than the backlog limit, as Engine.IO does: each send with a callback. */
  const overfill = () => {
    const block = Buffer.alloc(256 * 1024, 'x');
    for (let sent = 0; sent < 4 * SEND_BACKLOG_BYTES; sent += block.length) server.send(block, () => {});
  };
  return { server, client, overfill };
}

describe('coalesced WebSocket writes', () => {
  it('sends what a write releases from its callback in the same system call, in order', async () => {
    const { server, chunks, received, handedOver } = await connection();
    // As Engine.IO does: the sender's event is written, and its ack only once that write called back.
    server.write('event|', () => server.write('ack|'));
    server.write('more|');
    await received('event|more|ack|');
    expect(chunks.join('')).toBe('event|more|ack|');
    expect(handedOver).toEqual([['event|', 'more|', 'ack|']]);
  });

  it('calls back every write and keeps writes of later turns in order', async () => {
    const { server, chunks, received, handedOver } = await connection();
    const calledBack: string[] = [];
    for (const text of ['a|', 'b|', 'c|']) {
      server.write(text, (err?: Error | null) => calledBack.push(err ? `${text} failed` : text));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await received('a|b|c|');
    expect(chunks.join('')).toBe('a|b|c|');
    expect(calledBack).toEqual(['a|', 'b|', 'c|']);
    expect(handedOver).toEqual([['a|'], ['b|'], ['c|']]);
  });

  it('holds the writer back while more than the limit waits for a client that is not reading', async () => {
    const { server, client, chunks, received } = await connection(64 * 1024);
    client.pause();
    const block = 'x'.repeat(256 * 1024);
    // Enough to fill the kernel's buffers on both ends, with more than the limit left over.
    let calledBack = 0;
    const blocks = 128;
    for (let i = 0; i < blocks; i++) server.write(block, () => calledBack++);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.writableLength).toBeGreaterThan(64 * 1024);
    expect(calledBack).toBeLessThan(blocks);
    client.resume();
    await received(block.repeat(blocks));
    await until(() => calledBack === blocks, 5_000, 'every write called back');
    expect(chunks.join('').length).toBe(block.length * blocks);
  });

  it('reads nothing more from a client that is not taking what it is sent, until it does', async () => {
    const { server, client, overfill } = await webSocketPair();
    client.pause();
    overfill();
    let received = 0;
    server.on('message', () => received++);
    // 64 MB of requests: far more than the kernel's buffers on both ends can hold.
    const request = Buffer.alloc(64 * 1024, 'r');
    const requests = 1024;
    for (let i = 0; i < requests; i++) client.send(request);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(received).toBeLessThan(requests / 4);
    client.resume();
    await until(() => received === requests, 20_000, 'every request read once the client reads');
  });

  it('reads nothing for the time asked to pause, though a hold starts and ends meanwhile', async () => {
    const { server, client, overfill } = await webSocketPair();
    let received = 0;
    server.on('message', () => received++);
    pauseReading(server, 1_000);
    client.pause();
    overfill();
    await new Promise((resolve) => setTimeout(resolve, 100));
    client.resume();
    const request = Buffer.alloc(64 * 1024, 'r');
    const requests = 1024;
    for (let i = 0; i < requests; i++) client.send(request);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(received).toBeLessThan(requests / 4);
    await until(() => received === requests, 20_000, 'every request read after the pause');
  });

  it('closes at once a connection whose client is not taking what it is sent', async () => {
    const { server, client, overfill } = await webSocketPair();
    client.pause();
    overfill();
    // Otherwise the server would wait for a closing handshake the client never reads (30 s in ws).
    const closed = once(server, 'close');
    server.close();
    await until(() => server.readyState === WebSocket.CLOSED, 2_000, 'the connection closed');
    await closed;
  });
});
