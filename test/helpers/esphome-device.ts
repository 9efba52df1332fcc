// A local ESPHome device emulator: a TCP server speaking the native API's frames (plaintext, or
// Noise with a psk, as the responder), answering hello, the legacy password, list entities (its
// sensors, and a binary sensor the client must skip), subscribe states and pings, with hooks to
// push states and to misbehave. Built on the source's api.ts, frame.ts and noise.ts, whose bytes
// the unit tests check against recorded ones.
import net, { type AddressInfo } from 'node:net';
import { MSG, apiTypes, decode, encode, type ApiTypes, type MessageName } from '../../src/sources/esphome/api.js';
import { NoiseReader, PlaintextReader, noiseFrame, noiseMessage, plaintextFrame, readNoiseMessage, type Message } from '../../src/sources/esphome/frame.js';
import { NoiseHandshake, decodePsk, type TransportCiphers } from '../../src/sources/esphome/noise.js';

const PROLOGUE = Buffer.from('NoiseAPIInit\0\0', 'latin1');

export interface FakeSensor {
  object_id: string;
  key: number;
  name: string;
  unit_of_measurement?: string;
  accuracy_decimals?: number;
  device_class?: string;
  state_class?: number;
  entity_category?: number;
}

export interface FakeState {
  key: number;
  state: number;
  missing_state?: boolean;
}

export interface DeviceOptions {
  name: string;
  mac?: string;
  serverInfo?: string;
  sensors: FakeSensor[];
  states: FakeState[];
  /** The device's API key; without it, the plaintext protocol. */
  psk?: string;
  /** A legacy password the device checks. */
  password?: string;
  /** Instead of answering a message normally; return true when handled. */
  override?: (type: number, conn: DeviceConnection) => boolean;
}

export class DeviceConnection {
  ciphers: TransportCiphers | undefined;
  constructor(
    readonly socket: net.Socket,
    private readonly types: ApiTypes,
  ) {}

  send(name: MessageName, fields: Record<string, unknown> = {}): void {
    this.sendRaw(MSG[name], encode(this.types, name, fields));
  }

  /** Any message id with any bytes. */
  sendRaw(type: number, data: Buffer): void {
    if (this.socket.destroyed) return;
    this.socket.write(this.ciphers ? noiseFrame(this.ciphers.send.encrypt(noiseMessage(type, data))) : plaintextFrame(type, data));
  }
}

export class FakeEspHome {
  /** Message ids the device received, in order, over all connections. */
  readonly received: number[] = [];
  readonly connections: DeviceConnection[] = [];
  private server: net.Server | undefined;
  private types!: ApiTypes;

  constructor(readonly opts: DeviceOptions) {}

  async start(): Promise<{ host: string; port: number }> {
    this.types = await apiTypes();
    this.server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return { host: '127.0.0.1', port: (this.server.address() as AddressInfo).port };
  }

  /** Sends a state to every subscribed client. */
  pushState(state: FakeState): void {
    for (const c of this.connections) c.send('SensorStateResponse', { ...state });
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    if (this.server) await new Promise((r) => this.server!.close(r));
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => {});
    const conn = new DeviceConnection(socket, this.types);
    this.connections.push(conn);
    if (this.opts.psk) this.acceptNoise(conn);
    else {
      const reader = new PlaintextReader();
      socket.on('data', (chunk: Buffer) => {
        let msgs: Message[];
        try {
          msgs = reader.push(chunk);
        } catch {
          // A real device answers a Noise hello on its plaintext port by closing.
          return socket.destroy();
        }
        for (const m of msgs) this.onMessage(conn, m);
      });
    }
  }

  private acceptNoise(conn: DeviceConnection): void {
    const { socket } = conn;
    const reader = new NoiseReader();
    const handshake = new NoiseHandshake(false, decodePsk(this.opts.psk!), PROLOGUE);
    let frames = 0;
    socket.on('data', (chunk: Buffer) => {
      let list: Buffer[];
      try {
        list = reader.push(chunk);
      } catch {
        // A plaintext client: the device says so in a Noise error frame and closes.
        socket.end(noiseFrame(Buffer.concat([Buffer.from([1]), Buffer.from('Bad indicator byte')])));
        return;
      }
      for (const frame of list) {
        frames++;
        if (frames === 1) continue; // the client's empty hello
        if (frames === 2) {
          socket.write(noiseFrame(Buffer.concat([Buffer.from([1]), Buffer.from(`${this.opts.name}\0${this.opts.mac ?? ''}\0`)])));
          try {
            handshake.readMessage1(frame.subarray(1));
          } catch {
            socket.end(noiseFrame(Buffer.concat([Buffer.from([1]), Buffer.from('Handshake MAC failure')])));
            return;
          }
          socket.write(noiseFrame(Buffer.concat([Buffer.from([0]), handshake.writeMessage2()])));
          conn.ciphers = handshake.split();
          continue;
        }
        this.onMessage(conn, readNoiseMessage(conn.ciphers!.receive.decrypt(frame)));
      }
    });
  }

  private onMessage(conn: DeviceConnection, m: Message): void {
    this.received.push(m.type);
    if (this.opts.override?.(m.type, conn)) return;
    switch (m.type) {
      case MSG.HelloRequest:
        conn.send('HelloResponse', { api_version_major: 1, api_version_minor: 12, server_info: this.opts.serverInfo ?? 'esphome', name: this.opts.name });
        return;
      case MSG.AuthenticationRequest: {
        const { password } = decode<{ password: string }>(this.types, 'AuthenticationRequest', m.data);
        if (this.opts.password !== undefined && password !== this.opts.password) conn.send('AuthenticationResponse', { invalid_password: true });
        return;
      }
      case MSG.ListEntitiesRequest:
        for (const s of this.opts.sensors) conn.send('ListEntitiesSensorResponse', { ...s });
        // A binary sensor (ListEntitiesBinarySensorResponse, id 12): not a sensor of this source.
        conn.sendRaw(12, Buffer.from([0x0a, 0x04, 0x64, 0x6f, 0x6f, 0x72, 0x15, 1, 2, 3, 4]));
        conn.send('ListEntitiesDoneResponse');
        return;
      case MSG.SubscribeStatesRequest:
        for (const s of this.opts.states) conn.send('SensorStateResponse', { ...s });
        return;
      case MSG.PingRequest:
        conn.send('PingResponse');
        return;
      case MSG.DisconnectRequest:
        conn.send('DisconnectResponse');
        conn.socket.end();
        return;
      default:
    }
  }
}
