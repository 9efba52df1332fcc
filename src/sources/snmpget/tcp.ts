// SNMP over TCP (RFC 3430) for net-snmp, which speaks UDP only: a stand-in for its datagram
// socket (net-snmp takes one through `dgramModule`) that sends each message on one TCP
// connection and cuts the stream back into messages by their BER length.
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';

/** Larger than any answer an agent sends (net-snmp's own UDP limit is 64 KB). */
const MAX_MESSAGE = 1 << 20;

type SendCallback = (error: Error | null, bytes?: number) => void;

export class TcpDatagram extends EventEmitter {
  private socket: Socket | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private referenced = false;
  private closed = false;

  constructor(private readonly family: 4 | 6) {
    super();
  }

  send(buffer: Buffer, offset: number, length: number, port: number, host: string, cb: SendCallback): void {
    if (this.closed) return cb(new Error('the session is closed'));
    const socket = this.socket ?? this.open(port, host);
    socket.write(buffer.subarray(offset, offset + length), (err) => (err ? cb(err) : cb(null, length)));
  }

  private open(port: number, host: string): Socket {
    const socket = connect({ port, host, family: this.family });
    this.socket = socket;
    if (!this.referenced) socket.unref();
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.emit('error', err));
    // A dropped connection is opened again by the next request; its pending ones time out.
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.buffered = Buffer.alloc(0);
    });
    return socket;
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    for (;;) {
      const size = messageSize(this.buffered);
      if (size === undefined) return;
      if (size < 0 || size > MAX_MESSAGE) {
        this.socket?.destroy();
        this.emit('error', new Error('the agent sent data that is not an SNMP message'));
        return;
      }
      if (this.buffered.length < size) return;
      const message = this.buffered.subarray(0, size);
      this.buffered = this.buffered.subarray(size);
      this.emit('message', message, {});
    }
  }

  ref(): this {
    this.referenced = true;
    this.socket?.ref();
    return this;
  }

  unref(): this {
    this.referenced = false;
    this.socket?.unref();
    return this;
  }

  bind(): this {
    return this;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket?.destroy();
    this.emit('close');
  }
}

/** The length of the BER SEQUENCE at the start of `b`; undefined: not all of its header yet; -1: not a SEQUENCE. */
export function messageSize(b: Buffer): number | undefined {
  if (b.length < 2) return undefined;
  if (b[0] !== 0x30) return -1;
  const first = b[1]!;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (n === 0 || n > 4) return -1;
  if (b.length < 2 + n) return undefined;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + b[2 + i]!;
  return 2 + n + len;
}

/** net-snmp's `dgramModule` option: its sockets are TcpDatagrams. */
export function tcpModule(family: 4 | 6): { createSocket(): TcpDatagram } {
  return { createSocket: () => new TcpDatagram(family) };
}
