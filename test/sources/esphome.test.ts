// EspHome: the frame readers and the Noise handshake on bytes recorded by aioesphomeapi's tests,
// then the source against a local device emulator speaking the native API (plaintext and Noise:
// hello, list entities, subscribe states, pings), and against devices that refuse, babble or hang.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { FrameError, NoiseReader, PlaintextReader, plaintextFrame, varint } from '../../src/sources/esphome/frame.js';
import { CipherState, NoiseHandshake, decodePsk } from '../../src/sources/esphome/noise.js';
import { EspHomeSource, float32ToDecimal } from '../../src/sources/esphome/index.js';
import { MSG } from '../../src/sources/esphome/api.js';
import { FakeEspHome, type DeviceConnection, type DeviceOptions } from '../helpers/esphome-device.js';
import { initSource, probeOnce, valueOf } from '../helpers/probe.js';
import { build } from '../helpers/plugin.js';
import { validate } from '../helpers/validate.js';
import { createLogger } from '../../src/log.js';

const DEVICE = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/esphome/device.json'), 'utf8')) as Omit<DeviceOptions, 'psk'>;
const PROLOGUE = Buffer.from('NoiseAPIInit\0\0', 'latin1');
// Recorded in aioesphomeapi's tests/test__frame_helper.py @368a145f (see test/fixtures/esphome/README.md).
const RECORDED_PSK = 'QRTIErOb/fcE9Ukd/5qA3RGYMn0Y+p06U58SCtOXvPc=';
const RECORDED_CLIENT_HANDSHAKE = Buffer.from(
  '010031001ed7f7bb0b74085418258ed5928931bc36ade7cf06937fcff089044d4ab142643f1b2c9935bb77696f23d930836737a4',
  'hex',
);
const RECORDED_SERVER_HELLO = Buffer.from('01000d01736572766963657465737400', 'hex');
const RECORDED_MAC_FAILURE = Buffer.from('0100160148616e647368616b65204d4143206661696c757265', 'hex');
const PSK = Buffer.alloc(32, 7).toString('base64');

describe('ESPHome frames', () => {
  it('reads plaintext frames as aioesphomeapi writes them, in pieces too', () => {
    const frame = Buffer.concat([Buffer.from([0]), varint(192), varint(1), Buffer.alloc(192, 0x42)]);
    expect(frame.subarray(0, 4)).toEqual(Buffer.from([0x00, 0xc0, 0x01, 0x01]));
    const r = new PlaintextReader();
    expect(r.push(frame.subarray(0, 2))).toEqual([]);
    expect(r.push(frame.subarray(2, 100))).toEqual([]);
    const [m] = r.push(Buffer.concat([frame.subarray(100), plaintextFrame(8192, Buffer.alloc(0))]));
    expect(m).toEqual({ type: 1, data: Buffer.alloc(192, 0x42) });
    expect(new PlaintextReader().push(plaintextFrame(8192, Buffer.alloc(0)))).toEqual([{ type: 8192, data: Buffer.alloc(0) }]);
  });

  it('refuses hostile plaintext frames: a long varint, a length over 65535, a Noise device, a bad preamble', () => {
    expect(() => new PlaintextReader().push(Buffer.from([0, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/varint exceeds 4 bytes/);
    expect(() => new PlaintextReader().push(Buffer.concat([Buffer.from([0]), varint(70_000), varint(1)]))).toThrow(/frame length 70000 exceeds 65535/);
    expect(() => new PlaintextReader().push(RECORDED_MAC_FAILURE)).toThrow(/requires encryption: set psk/);
    expect(() => new PlaintextReader().push(Buffer.from([0x17, 0x03, 0x03]))).toThrow(FrameError);
  });

  it('reads Noise frames and says when the device speaks plaintext', () => {
    const r = new NoiseReader();
    expect(r.push(RECORDED_SERVER_HELLO.subarray(0, 5))).toEqual([]);
    const [hello] = r.push(RECORDED_SERVER_HELLO.subarray(5));
    expect(hello!.toString('latin1')).toBe('\x01servicetest\0');
    expect(() => new NoiseReader().push(plaintextFrame(2, Buffer.alloc(3)))).toThrow(/plaintext protocol/);
  });
});

describe('Noise_NNpsk0_25519_ChaChaPoly_SHA256', () => {
  it("verifies the first handshake message aioesphomeapi's Noise library recorded, with its key only", () => {
    const msg = RECORDED_CLIENT_HANDSHAKE.subarray(4); // frame header and the 0x00 byte
    expect(() => new NoiseHandshake(false, decodePsk(RECORDED_PSK), PROLOGUE).readMessage1(msg)).not.toThrow();
    expect(() => new NoiseHandshake(false, decodePsk(PSK), PROLOGUE).readMessage1(msg)).toThrow(/authentication failed/);
    expect(() => new NoiseHandshake(false, decodePsk(RECORDED_PSK), Buffer.from('NoiseAPIInit\0\x01')).readMessage1(msg)).toThrow(/authentication failed/);
  });

  it('completes a handshake; both transport directions interoperate; a flipped bit fails', () => {
    const psk = decodePsk(PSK);
    const client = new NoiseHandshake(true, psk, PROLOGUE);
    const device = new NoiseHandshake(false, psk, PROLOGUE);
    device.readMessage1(client.writeMessage1());
    client.readMessage2(device.writeMessage2());
    const c = client.split();
    const d = device.split();
    for (let i = 0; i < 3; i++) {
      expect(d.receive.decrypt(c.send.encrypt(Buffer.from(`frame ${i}`))).toString()).toBe(`frame ${i}`);
      expect(c.receive.decrypt(d.send.encrypt(Buffer.from(`reply ${i}`))).toString()).toBe(`reply ${i}`);
    }
    const sealed = c.send.encrypt(Buffer.from('payload'));
    sealed[0]! ^= 1;
    expect(() => d.receive.decrypt(sealed)).toThrow(/authentication failed/);
    expect(() => new CipherState(Buffer.alloc(32)).decrypt(Buffer.alloc(5))).toThrow(/shorter than its tag/);
  });

  it('decodes only base64 32-byte keys, without quoting them', () => {
    expect(decodePsk(RECORDED_PSK)).toHaveLength(32);
    for (const bad of ['short', Buffer.alloc(31).toString('base64'), `${RECORDED_PSK}!`]) {
      expect(() => decodePsk(bad)).toThrow(/not a base64-encoded 32-byte key \(\d+ characters\)/);
      try {
        decodePsk(bad);
      } catch (err) {
        expect((err as Error).message).not.toContain(bad);
      }
    }
  });

  it('turns float32 states into the decimals the device meant', () => {
    expect(float32ToDecimal(Math.fround(21.4))).toBe(21.4);
    expect(float32ToDecimal(Math.fround(1013.2))).toBe(1013.2);
    expect(float32ToDecimal(Math.fround(0.613))).toBe(0.613);
    expect(float32ToDecimal(-61)).toBe(-61);
  });
});

const devices: FakeEspHome[] = [];
const sources: EspHomeSource[] = [];
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
afterEach(async () => {
  for (const s of sources.splice(0)) s.shutdown();
  for (const d of devices.splice(0)) await d.close();
  for (const s of sockets) s.destroy();
  sockets.clear();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function device(over: Partial<DeviceOptions> = {}): Promise<{ dev: FakeEspHome; host: string; port: number }> {
  const dev = new FakeEspHome({ ...DEVICE, ...over });
  devices.push(dev);
  return { dev, ...(await dev.start()) };
}

function esphome(params: Parameters<typeof build<typeof EspHomeSource>>[1], log = createLogger('test', { level: 'error', write: () => {} })): EspHomeSource {
  const s = build(EspHomeSource, params, { log });
  sources.push(s);
  return s;
}

/** A TCP server that hands each connection to `onSocket` instead of speaking the API. */
async function rawServer(onSocket: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    sockets.add(s);
    onSocket(s);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function expectDeviceValues(s: Awaited<ReturnType<typeof probeOnce>>): void {
  // As the Python pollect: the device class is the name, the sensor's name the `name` label.
  expect(valueOf(s, 'temperature', { name: 'Living Room Temperature' })).toBe(21.4);
  expect(valueOf(s, 'humidity', { name: 'Living Room Humidity' })).toBe(48.7);
  expect(valueOf(s, 'pressure', { name: 'Living Room Pressure' })).toBe(1013.2);
  expect(valueOf(s, 'signal_strength', { name: 'WiFi Signal' })).toBe(-61);
  expect(valueOf(s, undefined, { name: 'ADC Raw' })).toBe(0.613);
  // The CO2 sensor has no state yet: nothing for it.
  expect(s.find((x) => x.labels?.name === 'CO2')).toBeUndefined();
  expect(s).toHaveLength(5);
  expect(s.find((x) => x.name === 'temperature')!.unit).toBe('°C');
}

describe('EspHome source with a device emulator', () => {
  it('plaintext: hello, list entities, subscribe states, and the values', async () => {
    const { dev, host, port } = await device();
    const source = esphome({ host, port });
    await initSource(source);
    // The first probe waits for the session and then for the states that follow the subscription.
    expectDeviceValues(await probeOnce(source));
    expect(dev.received).toEqual([MSG.HelloRequest, MSG.AuthenticationRequest, MSG.ListEntitiesRequest, MSG.SubscribeStatesRequest]);
  });

  it('Noise with the psk: the same, encrypted; later states are reported as they come', async () => {
    const { dev, host, port } = await device({ psk: PSK });
    const source = esphome({ host, port, psk: PSK });
    await initSource(source);
    await expect.poll(async () => (await probeOnce(source)).length).toBe(5);
    expectDeviceValues(await probeOnce(source));
    expect(dev.received).toEqual([MSG.HelloRequest, MSG.AuthenticationRequest, MSG.ListEntitiesRequest, MSG.SubscribeStatesRequest]);
    dev.pushState({ key: 3185462191, state: 22.9 });
    dev.pushState({ key: 771234001, state: 612 });
    await expect.poll(async () => valueOf(await probeOnce(source), 'temperature', { name: 'Living Room Temperature' })).toBe(22.9);
    expect(valueOf(await probeOnce(source), 'carbon_dioxide', { name: 'CO2' })).toBe(612);
  });

  it('a sensor that never sends a state delays only the first probe, by at most 2 s', async () => {
    const { host, port } = await device({ states: DEVICE.states.filter((st) => st.key !== 428617903) });
    const source = esphome({ host, port });
    await initSource(source);
    let started = Date.now();
    expect(await probeOnce(source)).toHaveLength(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    started = Date.now();
    expect(await probeOnce(source)).toHaveLength(4);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('answers the device ping, pings a quiet device, and says goodbye at shutdown', async () => {
    const { dev, host, port } = await device({ psk: PSK });
    const source = esphome({ host, port, psk: PSK, keepalive: 1 });
    await initSource(source);
    await probeOnce(source);
    dev.connections[0]!.send('PingRequest');
    await expect.poll(() => dev.received.includes(MSG.PingResponse)).toBe(true);
    await expect.poll(() => dev.received.includes(MSG.PingRequest), { timeout: 4000 }).toBe(true);
    source.shutdown();
    await expect.poll(() => dev.received.at(-1)).toBe(MSG.DisconnectRequest);
  });

  it('reconnects when the device disconnects', async () => {
    const { dev, host, port } = await device();
    const source = esphome({ host, port });
    await initSource(source);
    await probeOnce(source);
    dev.connections[0]!.send('DisconnectRequest');
    await expect.poll(() => dev.received.includes(MSG.DisconnectResponse)).toBe(true);
    await expect.poll(() => dev.connections.length, { timeout: 5000 }).toBe(2);
    await expect.poll(async () => (await probeOnce(source).catch(() => [])).length, { timeout: 5000 }).toBe(5);
  });

  it('a legacy device refusing the password', async () => {
    const { host, port } = await device({ password: 'right' });
    const source = esphome({ host, port, password: 'wrong' });
    await initSource(source);
    await expect(probeOnce(source)).rejects.toThrow(/no ESPHome session with 127\.0\.0\.1:\d+: the device refused the password; reconnecting in 1 s/);
  });

  it('a wrong key, a missing key, a key for a plaintext device: each says which', async () => {
    const noise = await device({ psk: PSK });
    const wrong = esphome({ host: noise.host, port: noise.port, psk: Buffer.alloc(32, 9).toString('base64') });
    await initSource(wrong);
    await expect(probeOnce(wrong)).rejects.toThrow(/the device refused the encryption key \(psk\)/);

    const none = esphome({ host: noise.host, port: noise.port });
    await initSource(none);
    await expect(probeOnce(none)).rejects.toThrow(/the device requires encryption: set psk/);

    const plain = await device();
    const extra = esphome({ host: plain.host, port: plain.port, psk: PSK });
    await initSource(extra);
    await expect(probeOnce(extra)).rejects.toThrow(
      /no ESPHome session with 127\.0\.0\.1:\d+: (the device closed the connection|the device uses the plaintext protocol)/,
    );
  });

  it("replays a real device's refusal: its server hello and `Handshake MAC failure`", async () => {
    const port = await rawServer((s) => s.once('data', () => s.write(Buffer.concat([RECORDED_SERVER_HELLO, RECORDED_MAC_FAILURE]))));
    const source = esphome({ host: '127.0.0.1', port, psk: RECORDED_PSK });
    await initSource(source);
    await expect(probeOnce(source)).rejects.toThrow(/the device refused the encryption key \(psk\)/);
  });

  it('drops a device that sends malformed protobuf, a huge frame, too many sensors, or a bad encrypted frame', async () => {
    // The device answers `type` with `act` instead of its normal answer.
    const instead =
      (type: number, act: (c: DeviceConnection) => void): DeviceOptions['override'] =>
      (t, c) => {
        if (t !== type) return false;
        act(c);
        return true;
      };
    const cases: [Partial<DeviceOptions>, RegExp][] = [
      [
        { override: instead(MSG.SubscribeStatesRequest, (c) => c.sendRaw(MSG.SensorStateResponse, Buffer.from([0x0d, 1, 2]))) },
        /malformed SensorStateResponse message/,
      ],
      [
        { override: instead(MSG.HelloRequest, (c) => c.socket.write(Buffer.concat([Buffer.from([0]), varint(1_000_000), varint(2)]))) },
        /frame length 1000000 exceeds 65535/,
      ],
      [{ sensors: Array.from({ length: 1100 }, (_, i) => ({ object_id: `s${i}`, key: i, name: `S${i}` })), states: [] }, /lists more than 1024 sensors/],
      [{ override: instead(MSG.HelloRequest, (c) => c.socket.write(Buffer.from([0x01, 0x00, 0x05, 1, 2, 3, 4, 5]))) }, /the device requires encryption/],
    ];
    for (const [over, msg] of cases) {
      const { host, port } = await device(over);
      const source = esphome({ host, port });
      await initSource(source);
      const outcome = () =>
        probeOnce(source).then(
          () => 'values',
          (e: Error) => e.message,
        );
      await expect.poll(outcome, { message: String(msg) }).toMatch(msg);
    }
    const noisy = await device({
      psk: PSK,
      override: (t, c) => {
        if (t !== MSG.HelloRequest) return false;
        c.socket.write(Buffer.from([0x01, 0x00, 0x14, ...Buffer.alloc(20, 0xaa)]));
        return true;
      },
    });
    const source = esphome({ host: noisy.host, port: noisy.port, psk: PSK });
    await initSource(source);
    await expect(probeOnce(source)).rejects.toThrow(/an encrypted message failed authentication/);
  });

  it('a device that accepts and says nothing: the first probe fails at its timeout, then the setup timeout drops it', async () => {
    const port = await rawServer(() => {});
    const source = esphome({ host: '127.0.0.1', port, psk: PSK, setupTimeout: 0.5 });
    await initSource(source);
    await expect(probeOnce(source, { timeoutMs: 200 })).rejects.toThrow(/no ESPHome session with 127\.0\.0\.1:\d+ within 200 ms/);
    await expect
      .poll(() =>
        probeOnce(source).then(
          () => 'values',
          (e: Error) => e.message,
        ),
      )
      .toMatch(/no server hello within 500 ms; reconnecting in 1 s/);
  });

  it('never logs the psk or the password', async () => {
    const lines: string[] = [];
    const log = createLogger('EspHome', { level: 'debug', write: (l) => lines.push(l) });
    const noise = await device({ psk: PSK });
    const wrong = Buffer.alloc(32, 9).toString('base64');
    const source = esphome({ host: noise.host, port: noise.port, psk: wrong, password: 'hunter22' }, log);
    await initSource(source);
    const err = await probeOnce(source).catch((e: Error) => e.message);
    const ok = esphome({ host: noise.host, port: noise.port, psk: PSK }, log);
    await initSource(ok);
    await probeOnce(ok);
    expect(lines.length).toBeGreaterThan(0);
    for (const text of [...lines, err]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(PSK);
      expect(text).not.toContain('hunter22');
    }
  });
});

describe('EspHome params', () => {
  it("takes the Python pollect's host, port and psk, and refuses a malformed psk at its path without quoting it", () => {
    const cfg: Record<string, unknown> = { host: 'livingroom.local', psk: PSK };
    expect(validate(EspHomeSource.schema, cfg, ['source'])).toEqual([]);
    expect(cfg).toEqual({ host: 'livingroom.local', port: 6053, psk: PSK, setupTimeout: 10, keepalive: 20 });
    expect(validate(EspHomeSource.schema, {}, ['source']).join('\n')).toMatch(/source.*host/);
    let err: Error & { param?: string } = new Error();
    try {
      build(EspHomeSource, { host: 'x', psk: 'not-a-key-at-all' });
    } catch (e) {
      err = e as Error & { param?: string };
    }
    expect(err.param).toBe('psk');
    expect(err.message).toMatch(/not a base64-encoded 32-byte key/);
    expect(err.message).not.toContain('not-a-key-at-all');
    expect(() => build(EspHomeSource, { host: 'x:6053' })).toThrow(/carries a port/);
  });
});
