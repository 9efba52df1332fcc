// Mqtt writer against a real mosquitto with a password file: the Python pollect's topic layout and
// config, retained messages a later subscriber gets, includePattern as a full match, Home
// Assistant discovery, QoS 1, a wrong password, a silent broker, and a broker restart (outage)
// through the core. Subscribers: test/helpers/mosquitto.ts's, and mosquitto's own mosquitto_sub.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { MqttWriter, topicOf, type MqttConfig } from '../../src/writers/mqtt/index.js';
import { writerParamsSchema } from '../../src/config/schema.js';
import { WriterRuntime } from '../../src/executors/writer-runtime.js';
import { createLogger } from '../../src/log.js';
import { ParamError, type WriterContext } from '../../src/sdk/index.js';
import { validate } from '../helpers/validate.js';
import { batch, point } from '../helpers/points.js';
import { needs } from '../helpers/servers.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { mosquitto, PASSWORD, subscribe, USER, type Broker, type Message } from '../helpers/mosquitto.js';
import { selfSigned } from '../helpers/certs.js';
import { spawnDaemon, tempDir } from '../helpers/net.js';
import path from 'node:path';

const SCHEMA = writerParamsSchema(MqttWriter.schema, 'Mqtt');

function configOf(params: Record<string, unknown>): MqttConfig {
  const data = { type: 'Mqtt', ...params };
  expect(validate(SCHEMA, data, [])).toEqual([]);
  return data as MqttConfig;
}

async function writer(params: Record<string, unknown>, configDir = '.') {
  const lines: string[] = [];
  const log = createLogger('', { level: 'debug', write: (l) => lines.push(l) });
  const ctx: WriterContext = { configDir, tickTime: 1, log, reportDropped: () => {} };
  const w = new MqttWriter(configOf(params), ctx);
  w.id = 'Mqtt#1';
  await w.start(ctx);
  return { w, lines, ctx };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); ) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Mqtt topics and config', () => {
  it("the Python pollect's layout: <collection>.<type>[.<name>]/<value>/<label>/<value>, lower-cased; wildcards replaced", () => {
    expect(topicOf(point('pollect.SmaEnergyMeter.wirkleistung_l1', 230, { phase: '0' }))).toBe('pollect.smaenergymeter/wirkleistung_l1/phase/0');
    expect(topicOf(point('pollect.LoadAvg', 0.5, { time: 'Short' }))).toBe('pollect.loadavg/time/short');
    const named = { ...point('c.Http', 1, { a: 'x+y#z' }), name: { collection: 'c', source: 'Http', instance: 'Shop', value: 'Up', id: 'c.Http.Shop.Up' } };
    expect(topicOf(named)).toBe('c.http.shop/up/a/x_y_z');
  });

  it("the Python pollect's README config loads unchanged; what cannot work is named", () => {
    const snippet = parse(readFileSync(fixtureDir('pollect', 'readme-snippets', '11-mqtt-mqtt.yml'), 'utf8')) as { writers: Record<string, unknown>[] };
    const { type: _type, ...params } = snippet.writers[0]!;
    expect(() => new MqttWriter(configOf(params))).not.toThrow();
    const at = (p: Record<string, unknown>) => {
      try {
        new MqttWriter(configOf(p));
      } catch (err) {
        expect(err).toBeInstanceOf(ParamError);
        return `${(err as ParamError).param}: ${(err as Error).message}`;
      }
      return 'no error';
    };
    expect(at({ includePattern: ['ok', '(unclosed'] })).toMatch(/^includePattern\[1\]: invalid regex/);
    expect(at({ password: 'x' })).toBe('password: a password needs a user');
    expect(at({ tls: { key: 'k.pem' } })).toBe('tls.cert: a client certificate needs both cert and key');
    expect(validate(SCHEMA, { type: 'Mqtt', qos: 2 }, ['writers', 0])[0]).toMatch(/^writers\[0\]\.qos: /);
  });
});

describe('Mqtt writer against a broker that stops answering', () => {
  it('a QoS 1 write fails once the keep-alive finds the silent broker (CONNACK, then nothing), never hangs', async () => {
    const server = net.createServer((sock) => {
      // CONNACK (accepted), then silence: no PUBACK, no PINGRESP.
      sock.once('data', () => sock.write(Buffer.from([0x20, 2, 0, 0])));
      sock.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const { w } = await writer({ host: '127.0.0.1', port, qos: 1, keepalive: 5 });
    const started = Date.now();
    await expect(w.write(batch([point('x.T.v', 1)]))).rejects.toThrow(`publishing to 127.0.0.1:${port}: the connection closed`);
    expect(Date.now() - started).toBeLessThan(12_000);
    await w.stop();
    server.close();
  }, 20_000);
});

describe.skipIf(!needs('mosquitto'))('Mqtt writer against a real mosquitto', () => {
  let broker: Broker;
  const certs = tempDir('pollect-mqtt-tls-');
  beforeAll(async () => {
    const server = selfSigned(certs.dir);
    selfSigned(certs.dir, { key: 'other-key.pem', cert: 'other.pem' });
    broker = await mosquitto({ tls: { cert: path.join(certs.dir, server.cert), key: path.join(certs.dir, server.key) } });
    await broker.start();
  }, 20_000);
  afterAll(async () => {
    await broker?.remove();
    certs.remove();
  });

  it('over TLS: the broker verified against the given CA; an unknown one fails the write and is said at start', async () => {
    const { w } = await writer({ ...auth(), port: broker.tlsPort, qos: 1, tls: { ca: 'cert.pem' } }, certs.dir);
    const sub = await subscribe(broker.port);
    await w.write(batch([point('tls.T.v', 7)]));
    await until(() => sub.messages.some((m) => m.topic === 'tls.t/v'));
    expect(sub.messages.find((m) => m.topic === 'tls.t/v')?.payload).toBe('7');
    await w.stop();
    sub.close();
    const { w: wrong, lines } = await writer({ ...auth(), port: broker.tlsPort, tls: { ca: 'other.pem' } }, certs.dir);
    expect(lines.some((l) => l.includes('WARN') && /self-signed|unable to verify|certificate/i.test(l))).toBe(true);
    await expect(wrong.write(batch([point('tls.T.v', 8)]))).rejects.toThrow(/certificate/i);
    await wrong.stop();
  });

  const auth = () => ({ host: '127.0.0.1', port: broker.port, user: USER, password: PASSWORD });

  it('publishes retained messages a later subscriber gets, only the topics includePattern matches in full', async () => {
    const { w } = await writer({ ...auth(), includePattern: ['r1\\.t/v.*', 'r1\\.t/w'] });
    await w.write(batch([point('r1.T.v', 1.5, { disk: '/var' }), point('r1.T.w', 2), point('r1.T.wx', 3), point('r1.Other.v', 4)]));
    await w.stop();
    const sub = await subscribe(broker.port);
    await until(() => sub.messages.filter((m) => m.topic.startsWith('r1.')).length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(sub.messages.filter((m) => m.topic.startsWith('r1.')).sort((a, b) => a.topic.localeCompare(b.topic))).toEqual([
      { topic: 'r1.t/v/disk//var', payload: '1.5', retain: true },
      { topic: 'r1.t/w', payload: '2', retain: true },
    ]);
    sub.close();
  });

  // The broker's own client (mosquitto-clients), apart from the subscriber in test/helpers and from
  // the writer's mqtt package: what a user's `mosquitto_sub -v -t '#'` shows.
  it.skipIf(!needs('mosquitto_sub'))(
    "mosquitto_sub sees the Python pollect's topics and payloads: the retained last values, then live QoS 1 messages",
    async () => {
      const { w } = await writer({ ...auth(), qos: 1 });
      await w.write(batch([point('sub.T.v', 1.5, { disk: '/var' }), point('sub.Load.short', 0.25)]));
      const sub = spawnDaemon('mosquitto_sub', [
        ...['-d', '-h', '127.0.0.1', '-p', String(broker.port), '-u', USER, '-P', PASSWORD, '-q', '1', '-t', 'sub.t/#', '-t', 'sub.load/#'],
        ...['-F', 'MSG %r %q %t %p', '-C', '4', '-W', '20'],
      ]);
      try {
        const got = () =>
          sub
            .output()
            .split('\n')
            .filter((l) => l.startsWith('MSG '));
        // -d prints the SUBACK: from then on the broker sends it what is published.
        await until(() => /received SUBACK/.test(sub.output()) && got().length >= 2, 10_000);
        await w.write(batch([point('sub.T.v', 2.5, { disk: '/var' }), point('sub.Load.short', 0.5)]));
        await until(() => got().length >= 4, 10_000);
        // Retained (flag 1) as stored by the broker, then live (flag 0, QoS 1); within each, any order.
        expect(got().slice(0, 2).sort()).toEqual(['MSG 1 1 sub.load/short 0.25', 'MSG 1 1 sub.t/v/disk//var 1.5']);
        expect(got().slice(2).sort()).toEqual(['MSG 0 1 sub.load/short 0.5', 'MSG 0 1 sub.t/v/disk//var 2.5']);
      } finally {
        await sub.stop();
        await w.stop();
      }
    },
    30_000,
  );

  it('QoS 1 with Home Assistant discovery: one discovery message per topic, whose state_topic is the topic', async () => {
    const sub = await subscribe(broker.port);
    const { w } = await writer({ ...auth(), qos: 1, hassAutodiscovery: true });
    await w.write(batch([point('ha.Sensors.temperature', 21.5, {}, undefined, { unit: 'celsius' })]));
    await w.write(batch([point('ha.Sensors.temperature', 22, {})]));
    await until(() => sub.messages.filter((m) => m.topic.includes('ha')).length >= 3);
    const got = sub.messages.filter((m: Message) => m.topic.includes('ha'));
    expect(got.map((m) => [m.topic, m.payload])).toEqual([
      [
        'homeassistant/sensor/ha_sensors_temperature/config',
        JSON.stringify({
          name: 'temperature',
          unique_id: 'pollect_ha_sensors_temperature',
          state_topic: 'ha.sensors/temperature',
          unit_of_measurement: 'celsius',
        }),
      ],
      ['ha.sensors/temperature', '21.5'],
      ['ha.sensors/temperature', '22'],
    ]);
    await w.stop();
    sub.close();
  });

  it("a wrong password: the write fails with the broker's reason", async () => {
    const { w, lines } = await writer({ ...auth(), password: 'wrong' });
    expect(lines.some((l) => l.includes('refused the connection: not authorized') || l.includes('bad user name or password'))).toBe(true);
    await expect(w.write(batch([point('x.T.v', 1)]))).rejects.toThrow(/refused the connection: (not authorized|bad user name or password)/);
    await w.stop();
  });

  it('a broker restart during a 100 ms tick: the core retries, and the last value of every series is there after it', async () => {
    const { w, ctx, lines } = await writer({ ...auth(), qos: 1, connectTimeout: 1 });
    const rt = new WriterRuntime(w, { bufferSize: 100_000, log: ctx.log, retryMinMs: 50, retryMaxMs: 200 });
    const sub = { messages: [] as Message[] };
    for (let tick = 0; tick < 30; tick++) {
      if (tick === 10) await broker.stop();
      if (tick === 20) await broker.start();
      rt.add(batch(Array.from({ length: 5 }, (_, i) => point(`out.T.v${i}`, tick))));
      await new Promise((r) => setTimeout(r, 100));
    }
    await rt.stop(Date.now() + 10_000);
    expect(rt.stats()).toMatchObject({ written: 150, dropped: 0 });
    expect(rt.stats().errors).toBeGreaterThan(0);
    // One line for the outage, however it showed first: the broker gone between ticks, refusing a
    // reconnect, or closing under a publish in flight.
    expect(lines.filter((l) => l.includes('ERROR'))).toEqual([
      expect.stringMatching(
        /writer Mqtt#1: (lost the connection to|127\.0\.0\.1:\d+: connect ECONNREFUSED|publishing to 127\.0\.0\.1:\d+: the connection closed)/,
      ),
    ]);
    // Without persistence the broker forgot what came before the restart; all that came after is there.
    const s = await subscribe(broker.port);
    await until(() => s.messages.filter((m) => m.topic.startsWith('out.')).length >= 5);
    sub.messages = s.messages.filter((m) => m.topic.startsWith('out.'));
    expect(sub.messages.map((m) => [m.topic, m.payload, m.retain]).sort()).toEqual([0, 1, 2, 3, 4].map((i) => [`out.t/v${i}`, '29', true]));
    s.close();
  }, 30_000);
});
