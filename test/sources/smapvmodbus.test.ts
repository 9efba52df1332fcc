// SmaPvModbus: the register decoding, then the source against a real Modbus TCP server
// (modbus-serial's ServerTCP) holding the registers of SMA's register list
// (test/fixtures/smapvmodbus), and against servers that fail, babble or hang.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import ModbusRTU from 'modbus-serial';
import { REGISTERS, decodeRegister } from '../../src/sources/smapvmodbus/registers.js';
import { SmaPvModbusSource } from '../../src/sources/smapvmodbus/index.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { build } from '../helpers/plugin.js';
import { validate } from '../helpers/validate.js';
import { freePort } from '../helpers/net.js';

interface Fixture {
  unitId: number;
  registers: Record<string, number[]>;
  expected: { temp: number; frequency: number; power: number; energy: number; dc_voltage: number; dc_current: number; ac_voltage: Record<string, number> };
}
const FIXTURE = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/smapvmodbus/registers.json'), 'utf8')) as Fixture;
const reg = (address: number) => REGISTERS.find((r) => r.address === address)!;

describe('SMA register decoding', () => {
  it('scales each type as the register list says', () => {
    expect(decodeRegister(reg(30953), [0, 412])).toBe(41.2);
    expect(decodeRegister(reg(30803), [0, 5001])).toBe(50.01);
    expect(decodeRegister(reg(30513), [0, 0, 193, 46354])).toBe(12_694_802);
    expect(decodeRegister(reg(30769), [0, 6348])).toBe(6.348);
  });

  it('reads signed types signed: a temperature below zero', () => {
    expect(decodeRegister(reg(30953), [0xffff, 0xffce])).toBe(-5);
    expect(decodeRegister(reg(30775), [0xffff, 0xfff6])).toBe(-10);
  });

  it("reports SMA's not-available values as 0, as the Python pollect", () => {
    expect(decodeRegister(reg(30775), [0x8000, 0])).toBe(0);
    expect(decodeRegister(reg(30803), [0xffff, 0xffff])).toBe(0);
    expect(decodeRegister(reg(30513), [0xffff, 0xffff, 0xffff, 0xffff])).toBe(0);
  });

  it('refuses a wrong number of words or values that are not 16-bit', () => {
    expect(() => decodeRegister(reg(30775), [1])).toThrow(/register 30775: expected 2 16-bit words, got 1/);
    expect(() => decodeRegister(reg(30513), [0, 1])).toThrow(/expected 4/);
    expect(() => decodeRegister(reg(30775), [0, 70000])).toThrow(/16-bit/);
  });
});

type Vector = { getMultipleHoldingRegisters: (addr: number, length: number, unitID: number) => number[] };
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** A Modbus TCP server answering every unit id with `vector`. */
async function modbusServer(vector: Vector): Promise<{ host: string; port: number; connections: () => number }> {
  const port = await freePort();
  const server = new ModbusRTU.ServerTCP(vector, { host: '127.0.0.1', port, unitID: 255 });
  await new Promise<void>((resolve) => server.on('initialized', () => resolve()));
  let connections = 0;
  server.on('socketError', () => {});
  (server as unknown as { _server: net.Server })._server.on('connection', () => connections++);
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return { host: '127.0.0.1', port, connections: () => connections };
}

/** The fixture's registers; records which unit ids asked for which address. */
function smaVector(asked: [number, number][] = [], registers = FIXTURE.registers): Vector {
  return {
    getMultipleHoldingRegisters(addr, length, unitID) {
      asked.push([addr, unitID]);
      const words = registers[String(addr)];
      if (!words || words.length !== length) throw Object.assign(new Error('illegal address'), { modbusErrorCode: 0x02 });
      return words;
    },
  };
}

/** A TCP server that does `onSocket` with each connection instead of speaking Modbus. */
async function rawServer(onSocket: (s: net.Socket) => void): Promise<{ host: string; port: number }> {
  const server = net.createServer(onSocket);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
}

describe('SmaPvModbus source with a Modbus TCP server', () => {
  it("reports the registers as the Python pollect names them, after asking unit 1 for the inverter's unit id", async () => {
    const asked: [number, number][] = [];
    const { host, port } = await modbusServer(smaVector(asked));
    const source = build(SmaPvModbusSource, { host, port });
    const s = await probeOnce(source);
    const e = FIXTURE.expected;
    expect(valueOf(s, 'temp')).toBe(e.temp);
    expect(valueOf(s, 'frequency')).toBe(e.frequency);
    expect(valueOf(s, 'power')).toBe(e.power);
    expect(valueOf(s, 'energy')).toBe(e.energy);
    expect(valueOf(s, 'dc_voltage')).toBe(e.dc_voltage);
    expect(valueOf(s, 'dc_current')).toBe(e.dc_current);
    for (const phase of ['1', '2', '3']) expect(valueOf(s, 'ac_voltage', { phase })).toBe(e.ac_voltage[phase]);
    expect(s).toHaveLength(9);
    expect(s.find((x) => x.name === 'power')!.unit).toBe('watts');
    expect(asked[0]).toEqual([42109, 1]);
    expect(asked.slice(1).every(([, unit]) => unit === FIXTURE.unitId)).toBe(true);
    await source.shutdown();
  });

  it('keeps the connection between probes and asks for the unit id once', async () => {
    const asked: [number, number][] = [];
    const srv = await modbusServer(smaVector(asked));
    const source = build(SmaPvModbusSource, { host: srv.host, port: srv.port });
    await probeOnce(source);
    await probeOnce(source);
    expect(srv.connections()).toBe(1);
    expect(asked.filter(([a]) => a === 42109)).toHaveLength(1);
    await source.shutdown();
  });

  it('opens a new connection when the inverter closed the idle one', async () => {
    const port = await freePort();
    const server = new ModbusRTU.ServerTCP(smaVector(), { host: '127.0.0.1', port, unitID: 255 });
    await new Promise<void>((resolve) => server.on('initialized', () => resolve()));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const source = build(SmaPvModbusSource, { host: '127.0.0.1', port });
    await probeOnce(source);
    for (const sock of server.socks.keys()) sock.destroy();
    await expect.poll(() => server.socks.size).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(valueOf(await probeOnce(source), 'power')).toBe(FIXTURE.expected.power);
    // A peer that closes in the middle of a request ends the probe at once, with the reason.
    const closing = await rawServer((s) => s.once('data', () => s.destroy()));
    const c = build(SmaPvModbusSource, { host: closing.host, port: closing.port });
    await expect(probeOnce(c, { timeoutMs: 5000 })).rejects.toThrow(/SMA inverter at 127\.0\.0\.1:\d+ closed the connection/);
    await c.shutdown();
    await source.shutdown();
  });

  it('fails with the Modbus exception for a register the inverter does not have, and reconnects on the next probe', async () => {
    const registers = { ...FIXTURE.registers };
    delete registers['30953'];
    const srv = await modbusServer(smaVector([], registers));
    const source = build(SmaPvModbusSource, { host: srv.host, port: srv.port });
    await expect(probeOnce(source)).rejects.toThrow(/SMA inverter at 127\.0\.0\.1:\d+: Modbus exception 2/);
    await expect(probeOnce(source)).rejects.toThrow(/Modbus exception 2/);
    expect(srv.connections()).toBe(2);
    await source.shutdown();
  });

  it('refuses an invalid unit id', async () => {
    const srv = await modbusServer(smaVector([], { ...FIXTURE.registers, '42109': [0, 0, 0, 0] }));
    const source = build(SmaPvModbusSource, { host: srv.host, port: srv.port });
    await expect(probeOnce(source)).rejects.toThrow(/reports no valid Modbus unit id \(0\)/);
    await source.shutdown();
  });

  it('fails at the probe timeout when the peer accepts and says nothing', async () => {
    const { host, port } = await rawServer(() => {});
    const source = build(SmaPvModbusSource, { host, port });
    const started = Date.now();
    await expect(probeOnce(source, { timeoutMs: 300 })).rejects.toThrow(/no answer from the inverter at 127\.0\.0\.1:\d+ within 300 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
    await source.shutdown();
  });

  it('fails with a clear error, not a crash, when the peer sends garbage or a huge frame, or nothing listens', async () => {
    const garbage = await rawServer((s) => s.once('data', () => s.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'))));
    const g = build(SmaPvModbusSource, { host: garbage.host, port: garbage.port });
    // modbus-serial drops what is no answer to its request: the probe ends at its timeout.
    await expect(probeOnce(g, { timeoutMs: 500 })).rejects.toThrow(/no answer from the inverter at 127\.0\.0\.1:\d+ within 500 ms/);
    await g.shutdown();

    const huge = await rawServer((s) =>
      s.once('data', (req: Buffer) => {
        // A valid MBAP header announcing 65535 bytes, then a flood.
        const head = Buffer.from([req[0]!, req[1]!, 0, 0, 0xff, 0xff, 1, 3, 0xff]);
        s.write(Buffer.concat([head, Buffer.alloc(70_000, 0x41)]));
      }),
    );
    const h = build(SmaPvModbusSource, { host: huge.host, port: huge.port });
    await expect(probeOnce(h, { timeoutMs: 500 })).rejects.toThrow(/SMA inverter at 127\.0\.0\.1:\d+: Data length error/);
    await h.shutdown();

    const closed = await freePort();
    const c = build(SmaPvModbusSource, { host: '127.0.0.1', port: closed });
    await expect(probeOnce(c)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('SmaPvModbus params', () => {
  it("takes the Python pollect's host and port (502 by default) and refuses a host with a port", () => {
    const cfg: Record<string, unknown> = { host: '192.168.1.20' };
    expect(validate(SmaPvModbusSource.schema, cfg, ['source'])).toEqual([]);
    expect(cfg).toEqual({ host: '192.168.1.20', port: 502 });
    expect(validate(SmaPvModbusSource.schema, {}, ['source']).join('\n')).toMatch(/source.*host/);
    expect(() => build(SmaPvModbusSource, { host: '192.168.1.20:502' })).toThrow(/carries a port/);
  });
});
