// One connection to an ESPHome device's native API, as the client: the Noise handshake (with a
// psk) or plaintext, hello (and the optional legacy password), the sensor list, then the
// subscription to states. The device's pings are answered, and the device is pinged when quiet;
// a device that stays silent, a setup that does not finish in time and anything malformed end the
// session with a reason (onClose), never an exception.
import type { Socket } from 'node:net';
import { API_VERSION, MSG, decode, encode, type ApiTypes, type HelloResponse, type MessageName, type SensorInfo, type SensorState } from './api.js';
import { FrameError, NoiseReader, PlaintextReader, noiseFrame, noiseMessage, plaintextFrame, readNoiseMessage, type Message } from './frame.js';
import { NoiseError, NoiseHandshake, type TransportCiphers } from './noise.js';

/** The Noise prologue of ESPHome's API. */
const PROLOGUE = Buffer.from('NoiseAPIInit\0\0', 'latin1');
/** A session drops a device that has sent nothing for this many keepalive intervals (aioesphomeapi's ratio). */
const KEEPALIVE_TIMEOUT_RATIO = 4.5;

export interface SessionOptions {
  /** The decoded API encryption key; without it, the plaintext protocol. */
  psk?: Buffer;
  /** The legacy API password (devices before ESPHome 2026.1); newer devices ignore it. */
  password?: string;
  clientInfo: string;
  /** Connect, handshake, hello and sensor list must be done within this, ms. */
  setupTimeoutMs: number;
  /** The device is pinged after this long without a message from it, ms. */
  keepaliveMs: number;
  /** Most sensors accepted from one device. */
  maxSensors: number;
}

export interface DeviceInfo {
  name: string;
  serverInfo: string;
  sensors: SensorInfo[];
}

export interface SessionHandlers {
  /** The sensor list is in and states are subscribed. */
  onReady(device: DeviceInfo): void;
  onState(state: SensorState): void;
  /** The session ended (once); `reason` says why. */
  onClose(reason: string): void;
}

type Phase = 'noise-hello' | 'noise-handshake' | 'hello' | 'listing' | 'subscribed';

export class EspHomeSession {
  private phase: Phase;
  private plain: PlaintextReader | undefined;
  private noise: NoiseReader | undefined;
  private handshake: NoiseHandshake | undefined;
  private ciphers: TransportCiphers | undefined;
  private readonly sensors: SensorInfo[] = [];
  private serverName = '';
  private serverInfo = '';
  private lastReceived = Date.now();
  private setupTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly types: ApiTypes,
    private readonly opts: SessionOptions,
    private readonly handlers: SessionHandlers,
  ) {
    this.phase = opts.psk ? 'noise-hello' : 'hello';
  }

  /** Starts the session on a socket that is connecting or connected. */
  start(): void {
    const { socket, opts } = this;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: Error) => this.close(err.message));
    socket.on('close', () => this.close('the device closed the connection'));
    this.setupTimer = setTimeout(() => this.close(`no ${this.waitingFor()} within ${opts.setupTimeoutMs} ms`), opts.setupTimeoutMs);
    this.keepaliveTimer = setInterval(() => this.keepalive(), opts.keepaliveMs);
    if (opts.psk) {
      this.noise = new NoiseReader();
      this.handshake = new NoiseHandshake(true, opts.psk, PROLOGUE);
      // An empty hello frame, then the first handshake message behind a 0x00 byte.
      socket.write(Buffer.concat([noiseFrame(Buffer.alloc(0)), noiseFrame(Buffer.concat([Buffer.from([0]), this.handshake.writeMessage1()]))]));
    } else {
      this.plain = new PlaintextReader();
      this.sendHello();
    }
  }

  /** Says goodbye to the device and closes. */
  stop(): void {
    if (this.closed) return;
    if (this.phase === 'hello' || this.phase === 'listing' || this.phase === 'subscribed') {
      try {
        this.send('DisconnectRequest');
      } catch {
        // the socket is gone already
      }
    }
    this.close('stopped', false);
  }

  private waitingFor(): string {
    switch (this.phase) {
      case 'noise-hello':
        return 'server hello';
      case 'noise-handshake':
        return 'handshake reply';
      case 'hello':
        return 'hello response';
      default:
        return 'sensor list';
    }
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastReceived = Date.now();
    try {
      if (this.plain) {
        for (const m of this.plain.push(chunk)) if (!this.closed) this.onMessage(m);
      } else {
        for (const f of this.noise!.push(chunk)) if (!this.closed) this.onNoiseFrame(f);
      }
    } catch (err) {
      this.close(err instanceof FrameError || err instanceof NoiseError ? err.message : `malformed data: ${(err as Error).message}`);
    }
  }

  private onNoiseFrame(frame: Buffer): void {
    if (this.phase === 'noise-hello') {
      if (frame.length === 0) throw new FrameError('empty server hello');
      if (frame[0] !== 0x01) throw new FrameError(`the device chose an unknown encryption protocol (${frame[0]})`);
      const end = frame.indexOf(0, 1);
      if (end > 0) this.serverName = printable(frame.subarray(1, end).toString('utf8'));
      this.phase = 'noise-handshake';
      return;
    }
    if (this.phase === 'noise-handshake') {
      if (frame.length === 0) throw new FrameError('empty handshake reply');
      if (frame[0] !== 0x00) {
        const explanation = frame.subarray(1).toString('utf8');
        throw new FrameError(
          explanation === 'Handshake MAC failure' ? 'the device refused the encryption key (psk)' : `handshake failed: ${printable(explanation)}`,
        );
      }
      try {
        this.handshake!.readMessage2(frame.subarray(1));
      } catch (err) {
        throw new NoiseError(`the device's handshake reply failed: ${(err as Error).message} (wrong psk?)`);
      }
      this.ciphers = this.handshake!.split();
      this.handshake = undefined;
      this.phase = 'hello';
      this.sendHello();
      return;
    }
    let plain: Buffer;
    try {
      plain = this.ciphers!.receive.decrypt(frame);
    } catch {
      throw new NoiseError('an encrypted message failed authentication');
    }
    this.onMessage(readNoiseMessage(plain));
  }

  private sendHello(): void {
    this.send('HelloRequest', { client_info: this.opts.clientInfo, api_version_major: API_VERSION.major, api_version_minor: API_VERSION.minor });
    // As aioesphomeapi: sent unasked; a device without password authentication ignores it.
    this.send('AuthenticationRequest', { password: this.opts.password ?? '' });
  }

  private onMessage({ type, data }: Message): void {
    switch (type) {
      case MSG.HelloResponse: {
        if (this.phase !== 'hello') return;
        const hello = this.decode<HelloResponse>('HelloResponse', data);
        if (hello.api_version_major > 2) throw new FrameError(`incompatible API version ${hello.api_version_major}.${hello.api_version_minor}`);
        this.serverName = printable(hello.name) || this.serverName;
        this.serverInfo = printable(hello.server_info);
        this.phase = 'listing';
        this.send('ListEntitiesRequest');
        return;
      }
      case MSG.AuthenticationResponse:
        if (this.decode<{ invalid_password: boolean }>('AuthenticationResponse', data).invalid_password) {
          throw new FrameError('the device refused the password');
        }
        return;
      case MSG.ListEntitiesSensorResponse:
        if (this.phase !== 'listing') return;
        if (this.sensors.length >= this.opts.maxSensors) throw new FrameError(`the device lists more than ${this.opts.maxSensors} sensors`);
        this.sensors.push(this.decode<SensorInfo>('ListEntitiesSensorResponse', data));
        return;
      case MSG.ListEntitiesDoneResponse:
        if (this.phase !== 'listing') return;
        this.phase = 'subscribed';
        clearTimeout(this.setupTimer);
        this.send('SubscribeStatesRequest');
        this.handlers.onReady({ name: this.serverName, serverInfo: this.serverInfo, sensors: this.sensors });
        return;
      case MSG.SensorStateResponse:
        if (this.phase === 'subscribed') this.handlers.onState(this.decode<SensorState>('SensorStateResponse', data));
        return;
      case MSG.PingRequest:
        this.send('PingResponse');
        return;
      case MSG.DisconnectRequest:
        this.send('DisconnectResponse');
        this.close('the device asked to disconnect');
        return;
      default:
      // Other entities, states and answers (PingResponse, GetTimeRequest ...) are not this source's.
    }
  }

  private decode<T>(name: MessageName, data: Buffer): T {
    try {
      return decode<T>(this.types, name, data);
    } catch {
      throw new FrameError(`malformed ${name} message`);
    }
  }

  private send(name: MessageName, fields?: Record<string, unknown>): void {
    const type = MSG[name];
    const data = encode(this.types, name, fields);
    this.socket.write(this.ciphers ? noiseFrame(this.ciphers.send.encrypt(noiseMessage(type, data))) : plaintextFrame(type, data));
  }

  private keepalive(): void {
    const quiet = Date.now() - this.lastReceived;
    if (quiet > this.opts.keepaliveMs * KEEPALIVE_TIMEOUT_RATIO) this.close(`no message from the device for ${Math.round(quiet / 1000)} s`);
    else if (quiet >= this.opts.keepaliveMs && this.phase === 'subscribed') this.send('PingRequest');
  }

  private close(reason: string, report = true): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.setupTimer);
    clearInterval(this.keepaliveTimer);
    if (report) this.socket.destroy();
    else {
      // Let the goodbye go out, but never wait long for it.
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    }
    if (report) this.handlers.onClose(reason);
  }
}

/** A peer's text as it may appear in a message: printable ASCII, at most 64 characters. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]+/g, '?').slice(0, 64);
}
