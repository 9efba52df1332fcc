// Every config of the Python pollect's README and its pollect.json (verbatim copies, davidgiga1993/
// pollect @cf5fa70, MIT: ../shared/fixtures/pollect/ and its README) loads with `pollect --check`
// unchanged, where its types exist here. A snippet that is one source, a list of sources or a
// `writers:` block is put into a minimal config around it; its own text is not touched.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfigText } from '../../src/config/parse.js';
import { cli } from '../helpers/cli.js';
import { selfSigned } from '../helpers/certs.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/net.js';

const SNIPPETS = fixtureDir('pollect', 'readme-snippets');
const tmp = tempDir();
afterAll(() => tmp.remove());
selfSigned(tmp.dir, { key: 'key.key', cert: 'cert.pem' });

/** The environment the snippets name: ${HOME} (01) and SNMPv3 pass phrases (02). */
const ENV = { HOME: '/home/pollect', AUTH_PASS: 'auth-pass-phrase', PRIV_PASS: 'priv-pass-phrase' };

/**
 * MMI, which this project does not build (its service is gone), and Gdc and AppStoreConnect, whose
 * key files are not beside the fixtures (python-cloud-sources.test.ts).
 */
const MISSING = ['Gdc', 'AppStoreConnect', 'MMI'];

async function snippet(name: string): Promise<unknown> {
  return parseConfigText(readFileSync(path.join(SNIPPETS, name), 'utf8'), name);
}

/** A whole config around a snippet: a source, a list of sources, or a `writers:` block. */
function around(part: unknown): object {
  const writer = { type: 'DryRun' };
  if (Array.isArray(part)) return { writer, executors: [{ sources: part }] };
  const p = part as Record<string, unknown>;
  if (p.writers) return { ...p, executors: [{ sources: [{ type: 'LoadAvg' }] }] };
  return { writer, executors: [{ sources: [p] }] };
}

let n = 0;
async function check(config: object, yaml = true): Promise<{ code: number | null; stderr: string; stdout: string }> {
  // Written as YAML-compatible JSON into a .yml file when it came from YAML, so the YAML rules apply.
  const file = path.join(tmp.dir, `c${n++}.${yaml ? 'yml' : 'json'}`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return cli(['-c', file, '--check'], ENV);
}

describe("the Python pollect's README configs", () => {
  it('01, the full sample config, loads as it is', async () => {
    const r = await cli(['-c', path.join(SNIPPETS, '01-config.yml'), '--check'], ENV);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/OK \(2 executor\(s\), 2 source\(s\)\)/);
  });

  for (const name of [
    '05-http-ingress-source-httpingress.yml',
    '06-certificate-source-certificate.yml',
    '08-prometheus-http-exporter-prometheus.yml',
    '09-https-support-prometheusssl.yml',
  ]) {
    it(`${name} loads`, async () => {
      const r = await check(around(await snippet(name)));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    });
  }

  it('02, SnmpGet v3 with a range: loads but for its privacyProtocol "SHA", which is no cipher (snmpget -x SHA fails every probe in Python)', async () => {
    const r = await check(around(await snippet('02-snmp-snmpget.yml')));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').slice(1)).toEqual([
      expect.stringMatching(/^ {2}executors\[0\]\.sources\[0\]\.privacyProtocol: must be one of "DES", "AES"/),
    ]);
    // With a cipher, the rest of it (the ${if} range, v3, rate) loads unchanged.
    const fixed = { ...((await snippet('02-snmp-snmpget.yml')) as object), privacyProtocol: 'AES' };
    const ok = await check(around(fixed));
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });

  it('the Pmcc snippet loads unchanged', async () => {
    const r = await check(around(await snippet('07-pmcc-source-pmcc.yml')));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
  it('the Otel and Mqtt writers load as the Python pollect configures them', async () => {
    for (const name of ['10-otel-http-exporter-otel.yml', '11-mqtt-mqtt.yml']) {
      const r = await check(around(await snippet(name)));
      expect(r.stderr, name).toBe('');
      expect(r.code, name).toBe(0);
    }
  });

  it('12, the extensions example, is not valid YAML as published (PyYAML refuses it too): an error with its line', async () => {
    const r = await cli(['-c', path.join(SNIPPETS, '12-extensions-source-INVALID-YAML.yml'), '--check'], ENV);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/12-extensions-source-INVALID-YAML\.yml:\d+:\d+: invalid YAML/);
  });
});

describe("the Python pollect's pollect.json", () => {
  const file = fixtureDir('pollect', 'pollect.json');
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { executors: { sources: { type: string }[] }[] };

  it('as a whole: only the types this project lacks are refused, and the empty HomematicIp placeholders', async () => {
    const r = await cli(['-c', file, '--check'], ENV);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n').slice(1);
    // MMI only, with the reason (its service is gone); Gdc's and AppStoreConnect's key files are checked once the schema passes (below).
    expect(lines.filter((l) => /\.type: /.test(l))).toEqual([
      "  executors[2].sources[10].type: the Audi MMI source is not built: Audi's MMI connect service it used is gone (the Python pollect's README marks it broken)",
    ]);
    // `authToken: ""` and `accessPoint: ""` can never reach the cloud (the Python pollect fails at start).
    expect(lines.filter((l) => !/\.type: /.test(l))).toEqual([
      '  executors[2].sources[12].authToken: must NOT have fewer than 1 characters',
      '  executors[2].sources[12].accessPoint: must NOT have fewer than 1 characters',
    ]);
  });

  it('without those sources, loads unchanged but for the SmartCtl device regex "sd[a-z}+$", which Python cannot compile either', async () => {
    const pruned = structuredClone({ ...raw, executors: raw.executors.map((e) => ({ ...e, sources: e.sources.filter((s) => !MISSING.includes(s.type)) })) });
    // HomematicIp's placeholders filled in (see above); its Fritz source loads as it is.
    const homematic = pruned.executors[2]!.sources.find((s) => s.type === 'HomematicIp') as unknown as Record<string, string>;
    Object.assign(homematic, { authToken: 'B2C7D6E5F4A3B2C1', accessPoint: '3014-F711-A000-0000-0000-0000' });
    const r = await check(pruned, false);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').slice(1)).toEqual(['  executors[2].sources[6].devices[0]: invalid regex "sd[a-z}+$": Unterminated character class']);
    // Every other source, with its per-source tickTime and SnmpGet's `oids`, loads.
    const withoutRegex = structuredClone(pruned) as typeof pruned;
    const smart = withoutRegex.executors[2]!.sources[6] as unknown as { type: string; devices: string[] };
    expect(smart.type).toBe('SmartCtl');
    smart.devices = ['sd[a-z]+$'];
    const ok = await check(withoutRegex, false);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/OK \(3 executor\(s\), 14 source\(s\)\)/);
  });
});
