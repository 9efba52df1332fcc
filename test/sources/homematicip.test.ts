// HomematicIp: the state parser on test/fixtures/homematicip/ (constructed after the homematicip
// library's demo state, see its README), then the source against two local HTTPS servers (a
// certificate made by the test, trusted through `tls.ca`): the lookup service, which checks the
// access point id and names the REST host, and that host, which checks the auth token and the
// client token derived from the id before it answers getCurrentState.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HomematicIpSource } from '../../src/sources/homematicip/index.js';
import { parseCurrentState, roomLabel } from '../../src/sources/homematicip/parse.js';
import { redact } from '../../src/sdk/index.js';
import { probeOnce } from '../helpers/probe.js';
import { build, configFor, pluginContext } from '../helpers/plugin.js';
import { selfSigned } from '../helpers/certs.js';
import { tempDir } from '../helpers/net.js';

const FIX = path.join(__dirname, '../fixtures/homematicip');
const fixture = (name: string): string => readFileSync(path.join(FIX, name), 'utf8');
const AP = '3014F711A000000000000000';
const TOKEN = 'B2C7D6E5F4A3B2C1D0E9F8A7B6C5D4E3F2A1B0C9D8E7F6A5B4C3D2E1F0A9B8C7';
// The client token as the homematicip library derives it (ClientTokenBuilder): SHA-512 of id + salt, upper case.
const CLIENT_AUTH = createHash('sha512').update(`${AP}jiLpVitHvWnIGD1yo7MA`).digest('hex').toUpperCase();

const tmp = tempDir();
afterAll(() => tmp.remove());
const { key, cert } = selfSigned(tmp.dir);
const tlsFiles = { key: readFileSync(path.join(tmp.dir, key)), cert: readFileSync(path.join(tmp.dir, cert)) };

const EXPECTED = [
  { name: 'temperature_target', value: 21.5, labels: { room: 'wohnzimmer' }, unit: 'celsius' },
  { name: 'temperature', value: 22.3, labels: { room: 'wohnzimmer' }, unit: 'celsius' },
  { name: 'humidity', value: 44, labels: { room: 'wohnzimmer' }, unit: 'percent' },
  { name: 'temperature_target', value: 19, labels: { room: 'buero' }, unit: 'celsius' },
  { name: 'temperature', value: 20.4, labels: { room: 'buero' }, unit: 'celsius' },
  { name: 'humidity', value: 51, labels: { room: 'buero' }, unit: 'percent' },
  { name: 'temperature_target', value: 23, labels: { room: 'bad_oben' }, unit: 'celsius' },
  { name: 'temperature', value: 22.75, labels: { room: 'bad_oben' }, unit: 'celsius' },
  { name: 'humidity', value: 63, labels: { room: 'bad_oben' }, unit: 'percent' },
];

describe('Homematic IP state parser', () => {
  it('reports the climate devices of each room once, and nothing else', () => {
    expect(parseCurrentState(JSON.parse(fixture('current-state.json')), 'w')).toEqual([
      { room: 'wohnzimmer', device: '3014F711A0000000000000A1', setPointTemperature: 21.5, actualTemperature: 22.3, humidity: 44 },
      { room: 'buero', device: '3014F711A0000000000000B1', setPointTemperature: 19, actualTemperature: 20.4, humidity: 51 },
      { room: 'bad_oben', device: '3014F711A0000000000000C1', setPointTemperature: 23, actualTemperature: 22.75, humidity: 63 },
    ]);
  });
  it('labels rooms as the Python pollect does', () => {
    expect(roomLabel('Büro Ärger Öl')).toBe('buero_aerger_oel');
    expect(roomLabel('Straße')).toBe('straße');
  });
  it('refuses a state of the wrong shape and leaves out readings that are not numbers', () => {
    expect(() => parseCurrentState([], 'w')).toThrow(/w: not a Homematic IP state/);
    expect(() => parseCurrentState({ groups: [], devices: {} }, 'w')).toThrow(/no "groups" and "devices" objects/);
    const state = JSON.parse(fixture('current-state.json')) as { devices: Record<string, { functionalChannels: Record<string, Record<string, unknown>> }> };
    state.devices['3014F711A0000000000000B1']!.functionalChannels['1']!.humidity = null;
    state.devices['3014F711A0000000000000B1']!.functionalChannels['1']!.actualTemperature = 'warm';
    expect(parseCurrentState(state, 'w')[1]).toEqual({ room: 'buero', device: '3014F711A0000000000000B1', setPointTemperature: 19 });
  });
});

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const srv = createServer(tlsFiles, handler);
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return `https://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

interface Cloud {
  lookupUrl: string;
  log: string[];
}

type Answer = (pathname: string, res: ServerResponse) => boolean;

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => resolve(JSON.parse(body || '{}') as Record<string, unknown>));
  });
}

async function cloud(answer?: Answer): Promise<Cloud> {
  const log: string[] = [];
  const send = (res: ServerResponse, status: number, text: string): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(text);
  const restUrl = await listen(async (req, res) => {
    log.push(`${req.method} ${req.url}`);
    const body = await readBody(req);
    if (answer?.(req.url!, res)) return;
    const h = req.headers;
    if (h.authtoken !== TOKEN || h.clientauth !== CLIENT_AUTH || h.version !== '12' || h['accesspoint-id'] !== AP)
      return send(res, 403, '{"errorCode":"INVALID_AUTHORIZATION"}');
    if (req.method === 'POST' && req.url === '/hmip/home/getCurrentState' && body.id === AP) return send(res, 200, fixture('current-state.json'));
    send(res, 404, '{}');
  });
  const lookupUrl = await listen(async (req, res) => {
    log.push(`${req.method} lookup${req.url}`);
    const body = await readBody(req);
    if (answer?.(`lookup${req.url}`, res)) return;
    const known = req.url === '/getHost' && body.id === AP && typeof body.clientCharacteristics === 'object';
    if (!known) return send(res, 404, '{"errorCode":"NOT_FOUND"}');
    send(res, 200, fixture('lookup.json').replace('URL_REST', restUrl));
  });
  return { lookupUrl: `${lookupUrl}/getHost`, log };
}

const source = (c: Pick<Cloud, 'lookupUrl'>, params: Record<string, unknown> = {}) =>
  build(
    HomematicIpSource,
    { authToken: TOKEN, accessPoint: '3014-F711-A000-0000-0000-0000', lookupUrl: c.lookupUrl, tls: { ca: cert }, ...params },
    { configDir: tmp.dir },
  );

describe('HomematicIp source against local HTTPS stand-ins of the lookup service and the cloud', () => {
  it('looks up the REST host once, then reads the current state with the auth and client tokens', async () => {
    const c = await cloud();
    const src = source(c);
    expect(await probeOnce(src)).toEqual(EXPECTED);
    expect(await probeOnce(src)).toEqual(EXPECTED);
    expect(c.log).toEqual(['POST lookup/getHost', 'POST /hmip/home/getCurrentState', 'POST /hmip/home/getCurrentState']);
  });

  it('looks the host up again after a failed read', async () => {
    let fail = true;
    const c = await cloud((p, res) => p === '/hmip/home/getCurrentState' && fail && !(fail = false) && !!res.writeHead(503).end('{"errorCode":"SERVER_BUSY"}'));
    const src = source(c);
    await expect(probeOnce(src)).rejects.toThrow(/getCurrentState: HTTP 503/);
    expect(await probeOnce(src)).toEqual(EXPECTED);
    expect(c.log).toEqual(['POST lookup/getHost', 'POST /hmip/home/getCurrentState', 'POST lookup/getHost', 'POST /hmip/home/getCurrentState']);
  });

  it('fails clearly on a refused token, an unknown access point and an untrusted certificate, never showing the token', async () => {
    const c = await cloud();
    const wrong = (await probeOnce(source(c, { authToken: 'A0B1C2D3E4F5' })).catch((e: Error) => e)) as Error;
    expect(wrong.message).toMatch(/^POST https:\/\/127\.0\.0\.1:\d+\/hmip\/home\/getCurrentState: HTTP 403: the cloud refused the auth token/);
    const unknown = (await probeOnce(source(c, { accessPoint: '3014F711A000000000000099' })).catch((e: Error) => e)) as Error;
    expect(unknown.message).toMatch(/getHost: HTTP 404/);
    const untrusted = (await probeOnce(source(c, { tls: undefined })).catch((e: Error) => e)) as Error;
    expect(untrusted.message).toMatch(/getHost: .*(self-signed|certificate)/i);
    for (const e of [wrong, unknown, untrusted]) {
      expect(e.message).not.toContain(TOKEN);
      expect(e.message).not.toContain(CLIENT_AUTH);
    }
  });

  it('gives a clear error for broken or hostile answers, never a crash', async () => {
    const cases: [Answer, RegExp][] = [
      [(p, res) => p === 'lookup/getHost' && !!res.writeHead(200).end('{"urlWebSocket":"wss://x"}'), /getHost: the lookup answer has no urlREST/],
      [(p, res) => p === 'lookup/getHost' && !!res.writeHead(200).end('<html>'), /getHost: invalid JSON/],
      [(p, res) => p === '/hmip/home/getCurrentState' && !!res.writeHead(200).end('{"home":{},"groups":'), /getCurrentState: invalid JSON/],
      [
        (p, res) => p === '/hmip/home/getCurrentState' && !!res.writeHead(200).end('{"groups":"x","devices":{}}'),
        /getCurrentState: the state has no "groups" and "devices" objects/,
      ],
      [
        (p, res) => p === '/hmip/home/getCurrentState' && !!res.writeHead(200).end(`{"devices":{},"groups":{${'"g":{},'.repeat(2000)}"h":{}}}`),
        /response larger than 8192 bytes/,
      ],
    ];
    for (const [answer, msg] of cases) {
      const c = await cloud(answer);
      const err = await probeOnce(source(c, { maxBytes: 8192 })).catch((e: Error) => e);
      expect(err, String(msg)).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(msg);
    }
  });

  it('gives up on a cloud that never answers at the probe timeout, through ctx.signal', async () => {
    const url = await listen(() => {});
    const started = Date.now();
    const err = await probeOnce(source({ lookupUrl: `${url}/getHost` }), { timeoutMs: 300 }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/POST https:\/\/127\.0\.0\.1:\d+\/getHost: (no answer within 300 ms|aborted)/);
    expect(Date.now() - started).toBeLessThan(3000);
    // Shutdown aborts ctx.signal long before the probe's own timeout: the probe ends at once.
    const shutdown = new AbortController();
    setTimeout(() => shutdown.abort(), 200);
    const aborted = await probeOnce(source({ lookupUrl: `${url}/getHost` }), { timeoutMs: 60_000, signal: shutdown.signal }).catch((e: Error) => e);
    expect((aborted as Error).message).toMatch(/: aborted$/);
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('registers the auth token and the client token as secrets', () => {
    const config = { ...configFor(HomematicIpSource, { authToken: 'x', accessPoint: AP }), authToken: 'Hmip-Only-Mine' };
    new HomematicIpSource(config, pluginContext());
    expect(redact(`Hmip-Only-Mine ${CLIENT_AUTH}`)).toBe('*** ***');
  });

  it('refuses an access point id that is not 24 hex digits, or empty params, at --check', () => {
    expect(() => build(HomematicIpSource, { authToken: TOKEN, accessPoint: '3014-F711' })).toThrow(/"3014-F711" is not an access point id/);
    expect(() => build(HomematicIpSource, { authToken: '', accessPoint: '' })).toThrow(/authToken[\s\S]*accessPoint/);
  });
});
