// The 16 source types of issue 14 as a whole: `pollect sources` lists every one of them and not
// MMI, and the configs the Python pollect's README gives for the types no other compat test loads
// (Evcc, SmaEnergyMeter, Zfs, Plex, Openhab: the params of their README tables, davidgiga1993/
// pollect README.md, sections "EVCC `Evcc`", "SMA Energy Meter `SmaEnergyMeter`", "Plex server
// `Zfs`" (no params), "Plex server `Plex`", "Openhab `Openhab`") load unchanged with --check.
// The others: python-home-sources, python-cloud-sources, python-device-sources, python-configs.
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, spawnCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/net.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

const ISSUE_14_TYPES = [
  'Evcc',
  'Openhab',
  'Plex',
  'Fritz',
  'Viessmann',
  'HomematicIp',
  'Gdc',
  'AppStoreConnect',
  'TpLinkEap',
  'ZodiacPool',
  'Pmcc',
  'EspHome',
  'SmaEnergyMeter',
  'SmaPvModbus',
  'Zfs',
  'K8sNamespaceTraffic',
];

async function check(yaml: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const file = path.join(tmp.dir, `c${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, yaml);
  return cli(['-c', file, '--check']);
}

describe("issue 14's source types", () => {
  it('`pollect sources` lists every one of them, each once, and not MMI', () => {
    const r = spawnCli(['sources']);
    expect(r.code).toBe(0);
    const listed = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(/\s+/)[0]);
    for (const type of ISSUE_14_TYPES)
      expect(
        listed.filter((t) => t === type),
        type,
      ).toHaveLength(1);
    expect(listed).not.toContain('MMI');
  });

  it("the Python README's Evcc, SmaEnergyMeter, Zfs, Plex and Openhab configs load unchanged", async () => {
    const r = await check(`writer:
  type: DryRun
executors:
  - collection: pollect
    sources:
      - type: Evcc
        host: localhost:7070
      - type: SmaEnergyMeter
        hostIp: 192.168.1.5
      - type: Zfs
      - type: Plex
        url: http://192.168.1.10:32400
      - type: Openhab
        url: http://192.168.1.10:8080
`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/OK \(1 executor\(s\), 5 source\(s\)\)/);
  });

  it('the same types refuse what cannot work, at the config path', async () => {
    const missing = await check(`writer:
  type: DryRun
executors:
  - sources:
      - type: Evcc
`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/executors\[0\]\.sources\[0\]\.host: is required/);
    // What only the constructors can tell, once the schemas hold.
    const r = await check(`writer:
  type: DryRun
executors:
  - sources:
      - type: Evcc
        host: localhost:7070
      - type: SmaEnergyMeter
        hostIp: eth0
      - type: Plex
        url: plex.local
`);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n').slice(1).join('\n');
    expect(lines).toMatch(/executors\[0\]\.sources\[1\]\.hostIp: .*not an IPv4 address/);
    expect(lines).toMatch(/executors\[0\]\.sources\[2\]\.url: /);
    expect(lines).not.toMatch(/sources\[0\]/);
  });
});
