// The Python pollect's configs for Zfs, Evcc, SmaEnergyMeter, Openhab and Plex load unchanged with
// `pollect --check`: each as its README documents it (davidgiga1993/pollect @cf5fa70, README.md:
// "Plex server `Zfs`" (no params), "EVCC `Evcc`" host, "SMA Energy Meter" hostIp, "Openhab" url,
// "Plex server `Plex`" url; Plex and Openhab also as in its pollect.json, see python-configs.test.ts).
// Their Python tests' values are checked in test/sources/{zfs,evcc,smaenergymeter}.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/net.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

const SOURCES = [
  { type: 'Zfs' },
  { type: 'Evcc', host: 'localhost:7070' },
  { type: 'SmaEnergyMeter', hostIp: '192.168.1.10' },
  { type: 'Openhab', url: 'http://localhost:8080' },
  { type: 'Plex', url: 'http://192.168.1.10:32400' },
];

async function check(sources: object[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const file = path.join(tmp.dir, `c${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, JSON.stringify({ writer: { type: 'DryRun' }, executors: [{ tickTime: 10, sources }] }, null, 2));
  return cli(['-c', file, '--check']);
}

describe("the Python pollect's configs of the home and storage sources", () => {
  it('load unchanged with --check', async () => {
    const r = await check(SOURCES);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/OK \(1 executor\(s\), 5 source\(s\)\)/);
  });

  it('without their required params, or with bad ones, fail at their config path', async () => {
    const missing = await check([{ type: 'Evcc' }, { type: 'Openhab' }, { type: 'Plex' }]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n').slice(1)).toEqual([
      '  executors[0].sources[0].host: is required',
      '  executors[0].sources[1].url: is required',
      '  executors[0].sources[2].url: is required',
    ]);
    // What only the constructor can tell, once the schema holds.
    const bad = await check([
      { type: 'SmaEnergyMeter', hostIp: 'eth0' },
      { type: 'Plex', url: 'plex:32400' },
    ]);
    expect(bad.code).toBe(2);
    const lines = bad.stderr.trim().split('\n').slice(1).join('\n');
    expect(lines).toMatch(/executors\[0\]\.sources\[0\]\.hostIp: "eth0" is not an IPv4 address/);
    expect(lines).toMatch(/executors\[0\]\.sources\[1\]\.url: the URL must start with http/);
  });
});
