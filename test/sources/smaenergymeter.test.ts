// SmaEnergyMeter: the Speedwire parser on the Python pollect's datagram (all 59 OBIS values, as
// the Python parser reads them: smaenergymeter-expected.ts), then the source receiving it over
// UDP on loopback, by multicast (which works on this machine's lo) and by unicast.
import { afterEach, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { OBIS_MEANINGS, parseMeterDatagram } from '../../src/sources/smaenergymeter/parse.js';
import { SmaEnergyMeterSource } from '../../src/sources/smaenergymeter/index.js';
import type { Sample } from '../../src/sdk/index.js';
import { initSource, probeOnce, valueOf } from '../helpers/probe.js';
import { build, type ParamsOf } from '../helpers/plugin.js';
import { validate } from '../helpers/validate.js';
import { PY_DATAGRAM_HEX, PY_SERIAL, PY_VALUES } from './smaenergymeter-expected.js';

const DATAGRAM = Buffer.from(PY_DATAGRAM_HEX, 'hex');
const GROUP = '239.12.255.254';

describe('Speedwire energy meter parser', () => {
  it("reads the Python test's datagram: 59 named OBIS values with the Python parser's raw values", () => {
    const d = parseMeterDatagram(DATAGRAM)!;
    expect(d.serial).toBe(PY_SERIAL);
    expect(d.susyId).toBe(372);
    const named = d.records.filter((r) => OBIS_MEANINGS.has(r.obis));
    expect(named).toHaveLength(59);
    expect(named.map((r) => [r.obis, r.value])).toEqual(PY_VALUES.map(([obis, , , raw]) => [obis, raw]));
    // The one record left: the firmware version (channel 144).
    expect(d.records.filter((r) => !OBIS_MEANINGS.has(r.obis)).map((r) => r.obis)).toEqual(['144:0.0.0']);
    for (const [obis, name, phase] of PY_VALUES) {
      const m = OBIS_MEANINGS.get(obis)!;
      expect([m.name.toLowerCase() + (m.kind === 'sum' ? '_sum' : ''), m.phase], obis).toEqual([name, phase]);
    }
  });

  it('ignores other Speedwire and non-SMA datagrams, refuses a cut one', () => {
    expect(parseMeterDatagram(Buffer.from('534d4100000402a0ffffffff0000002000000000', 'hex'))).toBeNull(); // a discovery
    expect(parseMeterDatagram(Buffer.from('hello world, not SMA'))).toBeNull();
    expect(parseMeterDatagram(Buffer.alloc(0))).toBeNull();
    // An inverter's SMA Net 2 datagram (protocol 0x6065).
    const inverter = Buffer.from(DATAGRAM);
    inverter.writeUInt16BE(0x6065, 16);
    expect(parseMeterDatagram(inverter)).toBeNull();
    expect(() => parseMeterDatagram(DATAGRAM.subarray(0, 300))).toThrow(/cut short: 300 bytes, the header says 604/);
    // A record whose value runs past the block's end.
    const bad = Buffer.from(DATAGRAM.subarray(0, 16 + 12 + 6));
    bad.writeUInt16BE(12 + 6, 12);
    expect(() => parseMeterDatagram(bad)).toThrow(/OBIS record 0:1\.4\.0 runs past the end/);
  });
});

const sources: SmaEnergyMeterSource[] = [];
afterEach(async () => {
  for (const s of sources.splice(0)) await s.shutdown();
});

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function listening(params: ParamsOf<typeof SmaEnergyMeterSource>): Promise<SmaEnergyMeterSource> {
  const src = build(SmaEnergyMeterSource, params);
  sources.push(src);
  await initSource(src);
  return src;
}

/** Sends datagrams from 127.0.0.1, to the group over lo or to 127.0.0.1 directly. */
async function send(port: number, to: string, ...datagrams: Buffer[]): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  s.setMulticastInterface('127.0.0.1');
  for (const d of datagrams) await new Promise<void>((r, j) => s.send(d, port, to, (err) => (err ? j(err) : r())));
  await new Promise<void>((r) => s.close(() => r()));
}

function expectPythonValues(samples: Sample[]): void {
  expect(samples).toHaveLength(59);
  for (const [obis, name, phase, , value] of PY_VALUES) {
    expect(valueOf(samples, name, { phase: String(phase) }), obis).toBeCloseTo(value, 9);
  }
}

describe('SmaEnergyMeter source over UDP on loopback', () => {
  it("receives the Python test's datagram by multicast and reports all 59 values as the Python pollect does", async () => {
    const port = await freeUdpPort();
    const src = await listening({ hostIp: '127.0.0.1', port });
    const probe = probeOnce(src, { timeoutMs: 5000 });
    await send(port, GROUP, DATAGRAM);
    expectPythonValues(await probe);
    // For Prometheus' naming the counters are the meter's own Ws readings, as counters.
    await send(port, GROUP, DATAGRAM);
    const prom = await probeOnce(src, { naming: 'prometheus' });
    const counter = prom.find((s) => s.name === 'wirkleistung_positive' && s.type === 'counter' && s.labels?.phase === '0')!;
    expect(counter).toMatchObject({ value: 22652897400, unit: 'joules' });
  });

  it('receives unicast datagrams with multicast off, averages current values between probes and keeps the latest counter', async () => {
    const port = await freeUdpPort();
    const src = await listening({ multicast: false, port });
    const second = Buffer.from(DATAGRAM);
    // 0:2.4.0 (Wirkleistung_negative, phase 0) 750 -> 1250 (0.1 W); 0:1.8.0 counter +3600000 Ws.
    const at = (obis: Buffer): number => DATAGRAM.indexOf(obis, 28) + 4;
    second.writeUInt32BE(1250, at(Buffer.from([0, 2, 4, 0])));
    second.writeBigUInt64BE(22652897400n + 3_600_000n, at(Buffer.from([0, 1, 8, 0])));
    await send(port, '127.0.0.1', DATAGRAM, second);
    // Loopback delivers at once; the wait only lets both datagrams be read before the probe.
    await new Promise((r) => setTimeout(r, 200));
    const s = await probeOnce(src);
    expect(valueOf(s, 'wirkleistung_negative', { phase: '0' })).toBeCloseTo(100, 9);
    expect(valueOf(s, 'wirkleistung_positive_sum', { phase: '0' })).toBeCloseTo(6292.4715 + 1, 9);
  });

  it("filters by serial, ignores other devices' traffic and reports a cut datagram", async () => {
    const port = await freeUdpPort();
    const other = await listening({ multicast: false, port, serial: 1 });
    await send(port, '127.0.0.1', DATAGRAM);
    await expect(probeOnce(other, { timeoutMs: 300 })).rejects.toThrow(/no datagram from the energy meter within 300 ms/);
    await other.shutdown();

    const src = await listening({ multicast: false, port, serial: PY_SERIAL });
    const probe = probeOnce(src, { timeoutMs: 2000 });
    await send(port, '127.0.0.1', Buffer.from('534d4100000402a0ffffffff0000002000000000', 'hex'), DATAGRAM.subarray(0, 300));
    await expect(probe).rejects.toThrow(/bad energy meter datagram: datagram cut short/);
    await send(port, '127.0.0.1', DATAGRAM);
    await expect.poll(async () => (await probeOnce(src, { timeoutMs: 500 }).catch(() => [])).length).toBe(59);
  });

  it('fails init when the port is taken by a socket without SO_REUSEADDR', async () => {
    const taken = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((r) => taken.bind(0, r));
    try {
      const src = build(SmaEnergyMeterSource, { multicast: false, port: taken.address().port });
      sources.push(src);
      await expect(initSource(src)).rejects.toThrow(/cannot listen on UDP port \d+: bind EADDRINUSE/);
    } finally {
      taken.close();
    }
  });
});

describe('SmaEnergyMeter params', () => {
  it('fills the defaults; bad addresses are named by their param', () => {
    const cfg: Record<string, unknown> = { hostIp: '192.168.1.5' };
    expect(validate(SmaEnergyMeterSource.schema, cfg, ['source'])).toEqual([]);
    expect(cfg).toEqual({ hostIp: '192.168.1.5', multicast: true, group: GROUP, port: 9522 });
    expect(() => build(SmaEnergyMeterSource, { hostIp: 'eth0' })).toThrow(/is not an IPv4 address/);
    expect(() => build(SmaEnergyMeterSource, { group: '10.0.0.1' })).toThrow(/not an IPv4 multicast address/);
    try {
      build(SmaEnergyMeterSource, { hostIp: 'eth0' });
    } catch (err) {
      expect((err as { param?: string }).param).toBe('hostIp');
    }
  });
});
