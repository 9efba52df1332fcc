// A real mosquitto broker on a free loopback port, with a password file (mosquitto_passwd) and no
// anonymous access; start() after stop() is the same broker again, without persistence unless
// asked (then it keeps retained messages and sessions across the restart). And a
// small subscriber written here from the MQTT 3.1.1 spec, apart from the writer's mqtt package,
// that records every message it gets (retained ones included) with its retain flag.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { freePort, spawnDaemon, tempDir, waitForPort, type Daemon } from './net.js';

export const USER = 'pollect';
export const PASSWORD = 'mqtt-secret';

export interface Broker {
  port: number;
  /** With `tls`: the TLS listener's port. */
  tlsPort: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  remove(): Promise<void>;
  output(): string;
}

export async function mosquitto(opts: { persistence?: boolean; tls?: { cert: string; key: string } } = {}): Promise<Broker> {
  const tmp = tempDir('pollect-mqtt-');
  const port = await freePort();
  const tlsPort = opts.tls ? await freePort() : 0;
  const passwd = path.join(tmp.dir, 'passwd');
  writeFileSync(passwd, '');
  execFileSync('mosquitto_passwd', ['-b', passwd, USER, PASSWORD], { stdio: 'pipe' });
  const conf = path.join(tmp.dir, 'mosquitto.conf');
  // Run as root, mosquitto drops to the `mosquitto` user, which cannot read a private temp dir.
  writeFileSync(
    conf,
    [
      `user ${os.userInfo().username}`,
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwd}`,
      opts.persistence ? `persistence true\npersistence_location ${tmp.dir}/` : 'persistence false',
      'log_dest stderr',
      ...(opts.tls ? [`listener ${tlsPort} 127.0.0.1`, `certfile ${opts.tls.cert}`, `keyfile ${opts.tls.key}`] : []),
      '',
    ].join('\n'),
  );
  let daemon: Daemon | undefined;
  let out = '';
  const stop = async () => {
    out += daemon?.output() ?? '';
    await daemon?.stop();
    daemon = undefined;
  };
  return {
    port,
    tlsPort,
    async start() {
      daemon = spawnDaemon('mosquitto', ['-c', conf]);
      await waitForPort(port);
      if (tlsPort) await waitForPort(tlsPort);
    },
    stop,
    async remove() {
      await stop();
      tmp.remove();
    },
    output: () => out + (daemon?.output() ?? ''),
  };
}

export interface Message {
  topic: string;
  payload: string;
  retain: boolean;
}

function str(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]);
}

function frame(header: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  do {
    len.push((n % 128) | (n >= 128 ? 128 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return Buffer.concat([Buffer.from([header, ...len]), body]);
}

/**
 * Subscribes to `#` (QoS 1) as USER; resolves once the broker acknowledged the subscription. With
 * a `session` (a client id), the session persists: the broker keeps what arrives while it is away.
 */
export async function subscribe(port: number, session?: string): Promise<{ messages: Message[]; close: () => void }> {
  const messages: Message[] = [];
  const sock = net.connect({ port, host: '127.0.0.1' });
  let buf = Buffer.alloc(0);
  let subacked: () => void = () => {};
  const ready = new Promise<void>((resolve) => (subacked = resolve));
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      let len = 0;
      let mul = 1;
      let i = 1;
      while (i < buf.length) {
        len += (buf[i]! & 127) * mul;
        mul *= 128;
        if ((buf[i++]! & 128) === 0) break;
      }
      if (buf.length < i + len || i === 1) return;
      const header = buf[0]!;
      const body = buf.subarray(i, i + len);
      buf = buf.subarray(i + len);
      if (header >> 4 === 2) sock.write(frame(0x82, Buffer.concat([Buffer.from([0, 1]), str('#'), Buffer.from([1])])));
      else if (header >> 4 === 9) subacked();
      else if (header >> 4 === 3) {
        const qos = (header >> 1) & 3;
        const tlen = body.readUInt16BE(0);
        const topic = body.subarray(2, 2 + tlen).toString();
        const start = 2 + tlen + (qos > 0 ? 2 : 0);
        if (qos === 1) sock.write(Buffer.from([0x40, 2, body[2 + tlen]!, body[3 + tlen]!]));
        messages.push({ topic, payload: body.subarray(start).toString(), retain: (header & 1) === 1 });
      }
    }
  });
  // Connect flags: user name, password, and a clean session unless one is to persist.
  const flags = session ? 0xc0 : 0xc2;
  sock.on('error', () => {});
  sock.write(
    frame(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, flags, 0, 60]), str(session ?? `sub-${process.pid}-${Math.random()}`), str(USER), str(PASSWORD)])),
  );
  await ready;
  return { messages, close: () => sock.destroy() };
}
