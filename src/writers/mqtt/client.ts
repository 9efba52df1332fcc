// A minimal MQTT 3.1.1 client that publishes (what the Mqtt writer needs and nothing more):
// CONNECT with credentials and keep-alive, PUBLISH at QoS 0 or 1 (with retain), PUBACK,
// PINGREQ, DISCONNECT, over TCP or TLS. One connection; the writer reconnects by making a new one.
import net from 'node:net';
import tls from 'node:tls';

export interface MqttOptions {
  host: string;
  port: number;
  /** TLS options; undefined: plain TCP. */
  tls?: tls.ConnectionOptions;
  clientId: string;
  username?: string;
  password?: string;
  keepaliveS: number;
  connectTimeoutMs: number;
}

/** CONNACK return codes (MQTT 3.1.1, 3.2.2.3). */
const REFUSED: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

/** A packet: fixed header byte, remaining length (varint), body. */
function packet(header: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 128;
    len.push(byte);
  } while (n > 0);
  return Buffer.concat([Buffer.from([header, ...len]), body]);
}

export class MqttClient {
  private readonly opts: MqttOptions;
  private socket: net.Socket | undefined;
  private inbound: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly acks = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private ping: NodeJS.Timeout | undefined;
  private lastInbound = Date.now();
  private onConnack: ((code: number) => void) | undefined;
  /** Why the connection ended, once it has. */
  closed: Error | undefined;

  constructor(opts: MqttOptions) {
    this.opts = opts;
  }

  get connected(): boolean {
    return this.socket !== undefined && this.closed === undefined;
  }

  /** Connects and waits for the broker's CONNACK; rejects with the broker's reason or the socket's error. */
  connect(): Promise<void> {
    const { host, port } = this.opts;
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        if (err) {
          this.close(err);
          reject(err);
        } else resolve();
      };
      const timer = setTimeout(
        () => done(new Error(`no CONNACK from ${host}:${port} within ${this.opts.connectTimeoutMs / 1000} s`)),
        this.opts.connectTimeoutMs,
      );
      const socket = this.opts.tls ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...this.opts.tls }) : net.connect({ host, port });
      this.socket = socket;
      socket.setNoDelay(true);
      socket.on('data', (d: Buffer) => this.read(d));
      socket.on('error', (err: NodeJS.ErrnoException) => {
        const e = new Error(err.code === 'ECONNREFUSED' ? `connection refused by ${host}:${port}` : `${host}:${port}: ${err.message}`);
        if (this.onConnack) done(e);
        else this.close(e);
      });
      socket.on('close', () => this.close(new Error(`${host}:${port} closed the connection`)));
      this.onConnack = (code) => {
        this.onConnack = undefined;
        done(code === 0 ? undefined : new Error(`${host}:${port} refused the connection: ${REFUSED[code] ?? `return code ${code}`}`));
      };
      socket.once(this.opts.tls ? 'secureConnect' : 'connect', () => socket.write(this.connectPacket()));
    }).then(() => {
      // A PINGREQ every half keep-alive period (the broker drops a client silent for 1.5 of them);
      // a broker that answers nothing for 1.5 periods is gone, even if TCP does not say so.
      const period = this.opts.keepaliveS * 1000;
      this.ping = setInterval(() => {
        if (Date.now() - this.lastInbound > period * 1.5) this.close(new Error(`no answer from ${host}:${port} for ${this.opts.keepaliveS * 1.5} s`));
        else this.socket?.write(Buffer.from([0xc0, 0]));
      }, period / 2);
      this.ping.unref();
    });
  }

  private connectPacket(): Buffer {
    const { username, password, clientId, keepaliveS } = this.opts;
    // Clean session; the password flag only with a user name (3.1.2.9).
    const flags = 0x02 | (username !== undefined ? 0x80 : 0) | (username !== undefined && password !== undefined ? 0x40 : 0);
    const keepalive = Buffer.alloc(2);
    keepalive.writeUInt16BE(keepaliveS);
    const parts = [str('MQTT'), Buffer.from([4, flags]), keepalive, str(clientId)];
    if (username !== undefined) parts.push(str(username));
    if (username !== undefined && password !== undefined) parts.push(str(password));
    return packet(0x10, Buffer.concat(parts));
  }

  /**
   * Publishes one message. QoS 0 resolves once the socket took it; QoS 1 once the broker's PUBACK
   * came. Rejects when the connection ends first.
   */
  publish(topic: string, payload: string, qos: 0 | 1, retain: boolean): Promise<void> {
    if (!this.connected) return Promise.reject(this.closed ?? new Error('not connected'));
    const header = 0x30 | (qos << 1) | (retain ? 1 : 0);
    const parts = [str(topic)];
    let id = 0;
    if (qos === 1) {
      id = this.nextId;
      this.nextId = (this.nextId % 65535) + 1;
      const idBytes = Buffer.alloc(2);
      idBytes.writeUInt16BE(id);
      parts.push(idBytes);
    }
    parts.push(Buffer.from(payload, 'utf8'));
    const bytes = packet(header, Buffer.concat(parts));
    return new Promise((resolve, reject) => {
      if (qos === 1) this.acks.set(id, { resolve, reject });
      this.socket!.write(bytes, (err) => {
        if (err) reject(err);
        else if (qos === 0) resolve();
      });
    });
  }

  /** Sends DISCONNECT and closes the connection. */
  async end(): Promise<void> {
    const socket = this.socket;
    if (!socket || this.closed) return;
    await new Promise<void>((resolve) => socket.end(Buffer.from([0xe0, 0]), () => resolve()));
    this.close(new Error('disconnected'));
  }

  private close(err: Error): void {
    if (this.closed) return;
    this.closed = err;
    clearInterval(this.ping);
    this.socket?.destroy();
    for (const a of this.acks.values()) a.reject(err);
    this.acks.clear();
  }

  /** Reads whole packets from what arrived: CONNACK, PUBACK and PINGRESP matter here. */
  private read(data: Buffer): void {
    this.lastInbound = Date.now();
    this.inbound = this.inbound.length ? Buffer.concat([this.inbound, data]) : data;
    for (;;) {
      let len = 0;
      let mul = 1;
      let i = 1;
      for (; i < this.inbound.length && i <= 4; i++) {
        len += (this.inbound[i]! & 127) * mul;
        mul *= 128;
        if ((this.inbound[i]! & 128) === 0) break;
      }
      if (i >= this.inbound.length || this.inbound.length < i + 1 + len) return;
      const type = this.inbound[0]! >> 4;
      const body = this.inbound.subarray(i + 1, i + 1 + len);
      this.inbound = this.inbound.subarray(i + 1 + len);
      if (type === 2 && this.onConnack) this.onConnack(body[1] ?? 255);
      else if (type === 4 && body.length >= 2) {
        const id = body.readUInt16BE(0);
        this.acks.get(id)?.resolve();
        this.acks.delete(id);
      }
    }
  }
}
