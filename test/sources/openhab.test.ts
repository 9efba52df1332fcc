// Openhab: the item list parser on test/fixtures/openhab/items.json (constructed from openHAB's
// item DTO, see its README), then the source against a local HTTP server replaying it.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseOpenhabItems } from '../../src/sources/openhab/parse.js';
import { OpenhabSource } from '../../src/sources/openhab/index.js';
import { probeOnce } from '../helpers/probe.js';
import { build } from '../helpers/plugin.js';

const ITEMS_TEXT = readFileSync(path.join(__dirname, '../fixtures/openhab/items.json'), 'utf8');
const EXPECTED = [
  { name: 'Living_Room_Temperature', value: 21.5, labels: { name: 'LivingRoom_Temperature', group: 'gLivingRoom,gTemperatures' } },
  { name: 'Heat_pump_power_current_', value: 1234.5, labels: { name: 'Heatpump_Power', group: 'gHeatpump' } },
  { name: 'Washer_cycles', value: 412, labels: { name: 'Washer_Cycles', group: '' } },
  { name: 'Kitchen_light', value: 1, labels: { name: 'Kitchen_Light', group: 'gKitchen,gLights' } },
  { name: 'Hall_light', value: 0, labels: { name: 'Hall_Light', group: 'gLights' } },
];

describe('openHAB item list parser', () => {
  it('reports numbers (without their unit) and switches, named by label, labelled by item name and groups', () => {
    expect(parseOpenhabItems(JSON.parse(ITEMS_TEXT))).toEqual(EXPECTED);
  });
  it('skips broken items and refuses what is not a list', () => {
    const items = [
      null,
      5,
      { name: 'x', type: 'Number', label: 'X' },
      { name: 'y', type: 'Number', label: 'Y', state: '' },
      { name: 'z', type: 'Number', label: 'Z', state: '1,5 m' },
    ];
    expect(parseOpenhabItems(items)).toEqual([]);
    expect(() => parseOpenhabItems({ items: [] })).toThrow(/not an openHAB item list/);
  });
});

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const srv = createServer(handler);
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

describe('Openhab source with a local HTTP replay', () => {
  it('GETs <url>/rest/items (a trailing / in url is fine) and sends the token as a bearer token', async () => {
    const seen: { url?: string; auth?: string }[] = [];
    const url = await serve((req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json' }).end(ITEMS_TEXT);
    });
    expect(await probeOnce(build(OpenhabSource, { url: `${url}/` }))).toEqual(EXPECTED);
    expect(await probeOnce(build(OpenhabSource, { url, token: 'oh.pollect.abcdef' }))).toEqual(EXPECTED);
    expect(seen).toEqual([{ url: '/rest/items' }, { url: '/rest/items', auth: 'Bearer oh.pollect.abcdef' }]);
  });

  it('fails with a clear error on an HTTP error, non-JSON, a non-list and an oversized answer, never quoting the token', async () => {
    const cases: [(res: ServerResponse) => void, RegExp][] = [
      [
        (res) => res.writeHead(401).end('{"error":{"message":"Authentication required oh.pollect.secret"}}'),
        /GET http:\/\/127\.0\.0\.1:\d+\/rest\/items: HTTP 401/,
      ],
      [(res) => res.writeHead(200).end('<html>login</html>'), /invalid JSON/],
      [(res) => res.writeHead(200).end('{"items":[]}'), /rest\/items: not an openHAB item list/],
      [(res) => res.writeHead(200).end(`[${'{"name":"x"},'.repeat(200)}{}]`), /maxContentLength|larger|exceed/i],
    ];
    for (const [answer, msg] of cases) {
      const url = await serve((_req, res) => answer(res));
      const err = await probeOnce(build(OpenhabSource, { url, token: 'oh.pollect.secret', maxBytes: 1024 })).catch((e: Error) => e);
      expect(err, String(msg)).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(msg);
      expect((err as Error).message).not.toContain('oh.pollect.secret');
    }
  });

  it('refuses a URL that is not http(s) at --check', () => {
    expect(() => build(OpenhabSource, { url: 'ws://localhost:8080' })).toThrow(/must start with http/);
    expect(() => build(OpenhabSource, { url: 'not a url' })).toThrow(/not a valid URL/);
  });
});
