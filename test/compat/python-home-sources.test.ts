// The Python pollect's configs for Fritz, TpLinkEap, ZodiacPool and HomematicIp load unchanged with
// `pollect --check`: each with the params its README documents (davidgiga1993/pollect @cf5fa70,
// README.md: "Homematic IP `HomematicIp`" authToken, accessPoint; "TP-LINK EAP `TpLinkEap`" url,
// user, password; "Zodiac Pool Cleaner `ZodiacPool`" user, password) and Fritz as its pollect.json
// has it (`pass`, `ip`; its README documents no params). The README's heading calls the Fritz type
// `Fritzbox`, which the Python pollect cannot load either (it looks for a class FritzboxSource).
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, spawnCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/net.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

const SOURCES = [
  { type: 'Fritz', pass: '0000', ip: '192.168.1.1' },
  { type: 'TpLinkEap', url: 'http://192.168.1.5', user: 'admin', password: 'admin' },
  { type: 'ZodiacPool', user: 'me@example.com', password: 'secret' },
  { type: 'HomematicIp', authToken: '9A3B2C1D0E9F8A7B6C5D4E3F2A1B0C9D8E7F6A5B4C3D2E1F0A9B8C7D6E5F4A3B', accessPoint: '3014-F711-A000-0000-0000-0000' },
];

async function check(sources: object[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const file = path.join(tmp.dir, `c${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, JSON.stringify({ writer: { type: 'DryRun' }, executors: [{ tickTime: 60, sources }] }, null, 2));
  return cli(['-c', file, '--check']);
}

describe("the Python pollect's configs of the FRITZ!Box, EAP, Zodiac and Homematic IP sources", () => {
  it('load unchanged with --check, and `pollect sources` lists them', async () => {
    const r = await check(SOURCES);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/OK \(1 executor\(s\), 4 source\(s\)\)/);
    const list = spawnCli(['sources']);
    for (const type of ['Fritz', 'TpLinkEap', 'ZodiacPool', 'HomematicIp']) expect(list.stdout).toMatch(new RegExp(`^\\s*${type}\\b`, 'm'));
  });

  it('without their required params, or with bad ones, fail at their config path', async () => {
    const missing = await check([
      { type: 'TpLinkEap', url: 'http://eap' },
      { type: 'ZodiacPool', user: 'me' },
      { type: 'HomematicIp', authToken: 'x' },
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n').slice(1)).toEqual([
      '  executors[0].sources[0].user: is required',
      '  executors[0].sources[0].password: is required',
      '  executors[0].sources[1].password: is required',
      '  executors[0].sources[2].accessPoint: is required',
    ]);
    const bad = await check([
      { type: 'Fritz', ip: 'http://fritz.box', pass: 'x' },
      { type: 'TpLinkEap', url: '192.168.1.5', user: 'a', password: 'b' },
      { type: 'HomematicIp', authToken: 'x', accessPoint: 'my-access-point' },
    ]);
    expect(bad.code).toBe(2);
    const lines = bad.stderr.trim().split('\n').slice(1).join('\n');
    expect(lines).toMatch(/executors\[0\]\.sources\[0\]\.ip: "http:\/\/fritz\.box" is not a host name or address/);
    expect(lines).toMatch(/executors\[0\]\.sources\[1\]\.url: not a valid URL/);
    expect(lines).toMatch(/executors\[0\]\.sources\[2\]\.accessPoint: "my-access-point" is not an access point id/);
    const fritzbox = await check([{ type: 'Fritzbox' }]);
    expect(fritzbox.stderr).toMatch(/executors\[0\]\.sources\[0\]\.type: unknown source type "Fritzbox"/);
  });
});
