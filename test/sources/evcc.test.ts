// Evcc: the state parser on the Python pollect's evcc.json, then the source against a local
// websocket server (the `ws` package's server) that sends it on connect, and broken servers.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseEvccState } from '../../src/sources/evcc/parse.js';
import { EvccSource } from '../../src/sources/evcc/index.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { build } from '../helpers/plugin.js';
import { validate } from '../helpers/validate.js';

const STATE_TEXT = readFileSync(fixtureDir('pollect-tests', 'evcc.json'), 'utf8');
const STATE = JSON.parse(STATE_TEXT) as Record<string, unknown>;
const GARAGE = { title: 'Garage' };

describe('evcc state parser', () => {
  it("reports the Python test's values (test_EvccSource.py)", () => {
    const s = parseEvccState(STATE);
    expect(valueOf(s, 'vehicleSoc', GARAGE)).toBe(50);
    expect(valueOf(s, 'targetSoc', GARAGE)).toBe(80);
    expect(valueOf(s, 'chargePower', GARAGE)).toBe(2373);
    expect(valueOf(s, 'vehiclePresent', GARAGE)).toBe(1);
    expect(valueOf(s, 'sessionPricePerKWh', GARAGE)).toBe(0.1079);
    expect(valueOf(s, 'phasesActive', GARAGE)).toBe(1);
    // The site's own values, without labels; booleans as 1/0; strings, lists, objects and null left out.
    expect(valueOf(s, 'gridPower')).toBe(STATE.gridPower);
    expect(valueOf(s, 'pvConfigured')).toBe(1);
    expect(s.find((x) => x.name === 'siteTitle' || x.name === 'vehicles' || x.name === 'sessionCo2PerKWh')).toBeUndefined();
    const expected = Object.values(STATE).filter((v) => typeof v === 'number' || typeof v === 'boolean').length;
    expect(s).toHaveLength(expected);
    expect(s.filter((x) => x.labels).every((x) => x.labels!.title === 'Garage')).toBe(true);
  });

  it('declares the units of the values it knows, and none for prices, flags, counts and unknown keys', () => {
    const s = parseEvccState(STATE);
    const unitOf = (name: string) => s.find((x) => x.name === name)?.unit;
    expect(unitOf('chargePower')).toBe('W');
    expect(unitOf('gridPower')).toBe('W');
    expect(unitOf('vehicleSoc')).toBe('percent');
    expect(unitOf('greenShare')).toBe('ratio');
    expect(unitOf('chargeCurrent')).toBe('A');
    expect(unitOf('chargedEnergy')).toBe('Wh');
    expect(unitOf('pvEnergy')).toBe('kWh');
    expect(unitOf('chargeDuration')).toBe('seconds');
    expect(unitOf('vehicleRange')).toBe('km');
    for (const name of ['tariffGrid', 'sessionPricePerKWh', 'charging', 'phasesActive', 'priority']) expect(unitOf(name), name).toBeUndefined();
    // Keys are evcc's: one named like an Object member declares nothing.
    const odd = parseEvccState(JSON.parse('{"constructor": 1, "toString": 2, "__proto__": 3}'));
    expect(odd.map((x) => [x.name, x.unit])).toEqual([
      ['constructor', undefined],
      ['toString', undefined],
      ['__proto__', undefined],
    ]);
  });

  it('reads a nested loadpoints list too, and labels a loadpoint without title by its index', () => {
    const s = parseEvccState({
      loadpoints: [
        { title: 'Carport', chargePower: 11000 },
        { chargePower: 0, charging: false },
      ],
      homePower: 400,
    });
    expect(valueOf(s, 'chargePower', { title: 'Carport' })).toBe(11000);
    expect(valueOf(s, 'chargePower', { title: '1' })).toBe(0);
    expect(valueOf(s, 'charging', { title: '1' })).toBe(0);
    expect(valueOf(s, 'homePower')).toBe(400);
  });

  it('refuses what is not an object', () => {
    for (const bad of [null, [], 'x', 42]) expect(() => parseEvccState(bad)).toThrow(/not an evcc state message/);
  });
});

type OnConnect = (ws: WebSocket) => void;
const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    for (const c of s.clients) c.terminate();
    await new Promise((r) => s.close(r));
  }
});

async function server(onConnect: OnConnect): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' });
  servers.push(wss);
  wss.on('connection', onConnect);
  await new Promise((r) => wss.once('listening', r));
  return `127.0.0.1:${(wss.address() as AddressInfo).port}`;
}

describe('Evcc source with a local websocket server', () => {
  it('connects to ws://host/ws, takes the state message and closes', async () => {
    let closed = false;
    const host = await server((ws) => {
      ws.send(STATE_TEXT);
      ws.on('close', () => (closed = true));
    });
    const s = await probeOnce(build(EvccSource, { host }));
    expect(valueOf(s, 'chargePower', GARAGE)).toBe(2373);
    expect(valueOf(s, 'sessionPricePerKWh', GARAGE)).toBe(0.1079);
    await expect.poll(() => closed).toBe(true);
  });

  it('fails with a clear error for hostile or broken servers', async () => {
    const cases: [OnConnect, RegExp][] = [
      [(ws) => ws.send('<html>'), /sent a message that is not JSON/],
      [(ws) => ws.send('[1,2]'), /not an evcc state message/],
      [(ws) => ws.send(Buffer.from([1, 2, 3]), { binary: true }), /binary message/],
      [(ws) => ws.close(1011), /closed the connection \(code 1011\) before sending its state/],
      [(ws) => ws.send(JSON.stringify({ pad: 'x'.repeat(5000) })), /Max payload size exceeded/],
    ];
    for (const [onConnect, msg] of cases) {
      const host = await server(onConnect);
      await expect(probeOnce(build(EvccSource, { host, maxBytes: 4096 })), String(msg)).rejects.toThrow(msg);
    }
  });

  it('fails at the probe timeout when the server sends nothing, and when nothing listens', async () => {
    const host = await server(() => {});
    await expect(probeOnce(build(EvccSource, { host }), { timeoutMs: 300 })).rejects.toThrow(/no state message from ws:\/\/127\.0\.0\.1:\d+\/ws within 300 ms/);
    const gone = await server(() => {});
    const wss = servers.pop()!;
    await new Promise((r) => wss.close(r));
    await expect(probeOnce(build(EvccSource, { host: gone }))).rejects.toThrow(/ECONNREFUSED/);
  });

  it('says so when the host answers plain HTTP instead of a websocket', async () => {
    const http = createServer((_req, res) => res.writeHead(404).end('not found'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    try {
      const host = `127.0.0.1:${(http.address() as AddressInfo).port}`;
      await expect(probeOnce(build(EvccSource, { host }))).rejects.toThrow(/ws:\/\/127\.0\.0\.1:\d+\/ws: HTTP 404 instead of a websocket/);
    } finally {
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    }
  });
});

describe('Evcc params schema', () => {
  it('requires host, without scheme or path, and fills maxBytes', () => {
    const cfg: Record<string, unknown> = { host: 'localhost:7070' };
    expect(validate(EvccSource.schema, cfg, ['source'])).toEqual([]);
    expect(cfg).toEqual({ host: 'localhost:7070', maxBytes: 4_194_304 });
    expect(validate(EvccSource.schema, {}, ['source']).join('\n')).toMatch(/source.*host/);
    expect(validate(EvccSource.schema, { host: 'http://x/ws' }, ['source']).join('\n')).toMatch(/source\.host/);
  });
});
