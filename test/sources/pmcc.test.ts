// Pmcc: the message parser, then the source against a local wss server whose certificate the test
// issues (self-signed, as the charger's), pushing the messages of test/fixtures/pmcc; and broken,
// hostile or silent servers.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { applyPmccMessage, emptyState } from '../../src/sources/pmcc/parse.js';
import { PmccSource } from '../../src/sources/pmcc/index.js';
import { initSource, probeOnce, valueOf } from '../helpers/probe.js';
import { build } from '../helpers/plugin.js';
import { validate } from '../helpers/validate.js';
import { selfSigned } from '../helpers/certs.js';
import { tempDir } from '../helpers/net.js';

const MESSAGES = (JSON.parse(readFileSync(path.join(__dirname, '../fixtures/pmcc/messages.json'), 'utf8')) as object[]).map((m) => JSON.stringify(m));
const tmp = tempDir();
const cert = selfSigned(tmp.dir, { key: 'k.pem', cert: 'c.pem' });
const other = selfSigned(tmp.dir, { key: 'k2.pem', cert: 'c2.pem' });
afterAll(() => tmp.remove());

describe('PMCC message parser', () => {
  it('takes the session and the phase powers, and ignores other messages', () => {
    const state = emptyState();
    const carried = MESSAGES.map((m) => applyPmccMessage(state, m));
    expect(carried).toEqual([true, true, true, true, false, false, false]);
    expect(state).toEqual({ soc: 57, startSoc: 23, evChargeRate: 10.8, phasePower: [3612.5, 3598, 3589.25] });
  });

  it('keeps a phase whose value is null', () => {
    const state = emptyState();
    applyPmccMessage(state, MESSAGES[1]!);
    expect(applyPmccMessage(state, JSON.stringify({ interface: 'de.bebro.iCAN', path: '/', args: { activePowerL1: '{"value":null}' } }))).toBe(false);
    expect(state.phasePower[0]).toBe(3612.5);
  });

  it('refuses malformed messages with a clear reason', () => {
    const bad: [string, RegExp][] = [
      ['<html>', /message is not JSON/],
      ['[1]', /unexpected message format/],
      ['{"path":"/"}', /unexpected message format/],
      [
        JSON.stringify({ interface: 'de.bebro.WebServer', path: '/', name: 'swaggerCurrentSessionChanged', args: {} }),
        /swaggerCurrentSession is not a JSON string/,
      ],
      [
        JSON.stringify({ interface: 'de.bebro.WebServer', path: '/', name: 'swaggerCurrentSessionChanged', args: { swaggerCurrentSession: '{' } }),
        /swaggerCurrentSession is not JSON/,
      ],
      [
        JSON.stringify({
          interface: 'de.bebro.WebServer',
          path: '/',
          name: 'swaggerCurrentSessionChanged',
          args: { swaggerCurrentSession: '{"soc":"x","startSoc":1,"evChargingRatekW":1}' },
        }),
        /soc is not a number/,
      ],
      [JSON.stringify({ interface: 'de.bebro.iCAN', path: '/', args: { activePowerL2: '{"value":"lots"}' } }), /activePowerL2\.value is not a number/],
    ];
    for (const [text, msg] of bad) expect(() => applyPmccMessage(emptyState(), text), text).toThrow(msg);
  });
});

const cleanups: (() => Promise<void>)[] = [];
const sources: PmccSource[] = [];
afterEach(async () => {
  for (const s of sources.splice(0)) s.shutdown();
  for (const c of cleanups.splice(0)) await c();
});

/** A wss server on a free port with the test's certificate; `onConnect` gets each client. */
async function wssServer(onConnect: (ws: WebSocket) => void, files = cert): Promise<{ host: string; https: Server; wss: WebSocketServer }> {
  const https = createServer({ key: readFileSync(path.join(tmp.dir, files.key)), cert: readFileSync(path.join(tmp.dir, files.cert)) });
  const wss = new WebSocketServer({ server: https, path: '/ws' });
  wss.on('connection', onConnect);
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  cleanups.push(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    https.closeAllConnections();
    await new Promise((r) => https.close(r));
  });
  return { host: `127.0.0.1:${(https.address() as AddressInfo).port}`, https, wss };
}

function pmcc(params: Parameters<typeof build<typeof PmccSource>>[1]): PmccSource {
  const s = build(PmccSource, params, { configDir: tmp.dir });
  sources.push(s);
  return s;
}

describe('Pmcc source with a local wss server', () => {
  it('connects to wss://host/ws despite the self-signed certificate and reports what the charger pushed', async () => {
    const { host } = await wssServer((ws) => {
      for (const m of MESSAGES) ws.send(m);
    });
    const source = pmcc({ host });
    await initSource(source, tmp.dir);
    await expect.poll(async () => valueOf(await probeOnce(source), 'chargePower', { phase: 'l3' })).toBe(3589.25);
    const s = await probeOnce(source);
    expect(valueOf(s, 'chargePower', { phase: 'ev' })).toBe(10.8);
    expect(valueOf(s, 'chargePower', { phase: 'l1' })).toBe(3612.5);
    expect(valueOf(s, 'chargePower', { phase: 'l2' })).toBe(3598);
    expect(valueOf(s, 'soc', { type: 'current' })).toBe(57);
    expect(valueOf(s, 'soc', { type: 'start' })).toBe(23);
    expect(s).toHaveLength(6);
    expect(s.find((x) => x.labels?.phase === 'ev')!.unit).toBe('kW');
  });

  it('verifies the charger with `ca` when one is given', async () => {
    const { host } = await wssServer((ws) => ws.send(MESSAGES[0]!));
    const good = pmcc({ host, ca: cert.cert });
    await initSource(good, tmp.dir);
    await expect.poll(async () => valueOf(await probeOnce(good), 'soc', { type: 'current' })).toBe(57);
    const bad = pmcc({ host, ca: other.cert });
    await initSource(bad, tmp.dir);
    await expect(probeOnce(bad)).rejects.toThrow(/not connected to wss:\/\/127\.0\.0\.1:\d+\/ws: .*(signature|certificate)/i);
  });

  it('reconnects after the charger drops the connection, keeping the values', async () => {
    let connections = 0;
    const { host } = await wssServer((ws) => {
      connections++;
      if (connections === 1) {
        ws.send(MESSAGES[0]!);
        setTimeout(() => ws.close(1001), 50);
      } else ws.send(MESSAGES[1]!);
    });
    const source = pmcc({ host });
    await initSource(source, tmp.dir);
    await expect.poll(() => connections, { timeout: 5000 }).toBe(2);
    await expect.poll(async () => valueOf(await probeOnce(source), 'chargePower', { phase: 'l1' })).toBe(3612.5);
    expect(valueOf(await probeOnce(source), 'soc', { type: 'current' })).toBe(57);
  });

  it('reports a malformed or binary message as a problem and goes on with the values it has', async () => {
    const { host } = await wssServer((ws) => {
      ws.send(MESSAGES[0]!);
      ws.send('not json at all');
    });
    const source = pmcc({ host });
    await initSource(source, tmp.dir);
    const problems: string[] = [];
    const lastProblem = async () => {
      await probeOnce(source, { problems });
      return problems.at(-1);
    };
    await expect.poll(lastProblem).toMatch(/wss:\/\/127\.0\.0\.1:\d+\/ws: message is not JSON/);
    expect(valueOf(await probeOnce(source), 'soc', { type: 'current' })).toBe(57);
  });

  it('drops a connection whose message is larger than maxBytes, and says so', async () => {
    const { host } = await wssServer((ws) => ws.send(JSON.stringify({ interface: 'x', pad: 'x'.repeat(5000) })));
    const source = pmcc({ host, maxBytes: 1024 });
    await initSource(source, tmp.dir);
    const outcome = () =>
      probeOnce(source).then(
        () => 'values',
        (e: Error) => e.message,
      );
    await expect.poll(outcome).toMatch(/not connected to wss:\/\/127\.0\.0\.1:\d+\/ws: Max payload size exceeded; reconnecting in 1 s/);
  });

  it('fails a probe with the reason when nothing listens, or the handshake hangs past the probe timeout', async () => {
    const { host, https } = await wssServer(() => {});
    await new Promise((r) => https.close(r));
    https.closeAllConnections();
    const none = pmcc({ host });
    await initSource(none, tmp.dir);
    await expect(probeOnce(none)).rejects.toThrow(/not connected to wss:\/\/127\.0\.0\.1:\d+\/ws: .*ECONNREFUSED/);

    // A peer that accepts TCP and never speaks TLS.
    const net = await import('node:net');
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      silent.close();
    });
    const hung = pmcc({ host: `127.0.0.1:${(silent.address() as AddressInfo).port}` });
    await initSource(hung, tmp.dir);
    await expect(probeOnce(hung, { timeoutMs: 300 })).rejects.toThrow(/not connected to wss:\/\/127\.0\.0\.1:\d+\/ws within 300 ms/);
  });
});

describe('Pmcc params', () => {
  it("takes the Python pollect's host; ca must be readable", () => {
    const cfg: Record<string, unknown> = { host: 'iccpd-1234567' };
    expect(validate(PmccSource.schema, cfg, ['source'])).toEqual([]);
    expect(cfg).toEqual({ host: 'iccpd-1234567', maxBytes: 1_048_576 });
    expect(validate(PmccSource.schema, { host: 'wss://x/ws' }, ['source']).join('\n')).toMatch(/source\.host/);
    expect(() => build(PmccSource, { host: 'x', ca: 'missing.pem' }, { configDir: tmp.dir })).toThrow(/cannot read .*missing\.pem: no such file/);
  });
});
