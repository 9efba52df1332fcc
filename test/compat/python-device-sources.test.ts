// The Python pollect's configs for Pmcc, K8sNamespaceTraffic, SmaPvModbus and EspHome load
// unchanged with `pollect --check` (davidgiga1993/pollect @cf5fa70): Pmcc's and
// K8sNamespaceTraffic's as its README and docs/K8sNetwork.md show them (YAML, comments and all),
// SmaPvModbus with the keys of its README table, EspHome with the keys its source reads (the README
// has no example). MMI, which the Python README marks broken, is refused at --check with the reason.
// The sources' own behaviour is tested in test/sources/{pmcc,k8snamespacetraffic,smapvmodbus,esphome}.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, spawnCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/net.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

// Indented into `sources:` below; each block as the Python docs print it.
const PMCC = `- type: Pmcc
  host: "iccpd-..."`;

const K8S_NETWORK = `type: K8sNamespaceTraffic
name: host
networks: # List of known destination networks to which to group the traffic by (in addition to the namespace names)
  - name: "local"
    cidrs: [ "192.168.1.0/24" ]
# All traffic not matching any network will be labeled with "other"

# Optional: Defines the label name to use for the exported metrics k8s namespaces
# namespaceLabel: 'namespace'

# Optional: When true logs all packets which do not match any of the known networks
# logUnknownTraffic: False`;

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');
}

async function check(yaml: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const file = path.join(tmp.dir, `c${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, yaml);
  return cli(['-c', file, '--check']);
}

describe("the Python pollect's configs of the device and network sources", () => {
  it('load unchanged with --check', async () => {
    const yaml = `writer:
  type: DryRun
executors:
  - tickTime: 10
    sources:
${indent(PMCC, '      ')}
${indent(`- ${indent(K8S_NETWORK, '  ').trimStart()}`, '      ')}
      - type: SmaPvModbus
        host: 192.168.1.20
        port: 502
      - type: EspHome
        host: livingroom.local
        port: 6053
        psk: "QRTIErOb/fcE9Ukd/5qA3RGYMn0Y+p06U58SCtOXvPc="
`;
    const r = await check(yaml);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/OK \(1 executor\(s\), 4 source\(s\)\)/);
  });

  it('refuse MMI with the reason, at its type', async () => {
    const r = await check(`writer:
  type: DryRun
executors:
  - tickTime: 10
    sources:
      - type: MMI
        credentials: credentials.json
        vin: WAUZZZ8V0KA000000
`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /executors\[0\]\.sources\[0\]\.type: the Audi MMI source is not built: Audi's MMI connect service it used is gone \(the Python pollect's README marks it broken\)/,
    );
  });

  it('`pollect sources` lists the four and not MMI', async () => {
    // The installed launcher, as cli.test.ts runs it (npm test builds dist/ first).
    const r = spawnCli(['sources']);
    expect(r.code).toBe(0);
    for (const type of ['Pmcc', 'EspHome', 'SmaPvModbus', 'K8sNamespaceTraffic']) expect(r.stdout).toMatch(new RegExp(`\\b${type}\\b`));
    expect(r.stdout).not.toMatch(/\bMMI\b/);
  });

  it('fail at their config path without required params or with bad ones, never quoting the psk', async () => {
    const missing = await check(`writer:
  type: DryRun
executors:
  - tickTime: 10
    sources:
      - type: Pmcc
`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/executors\[0\]\.sources\[0\]\.host: is required/);
    // What only the constructors can tell, once the schemas hold.
    const r = await check(`writer:
  type: DryRun
executors:
  - tickTime: 10
    sources:
      - type: Pmcc
        host: iccpd-1
      - type: EspHome
        host: x
        psk: "c2VjcmV0LWJ1dC10b28tc2hvcnQ="
      - type: K8sNamespaceTraffic
        networks: [ { name: lan, cidrs: [ "192.168.1.0/33" ] } ]
      - type: SmaPvModbus
        host: "192.168.1.20:502"
`);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n').slice(1).join('\n');
    expect(lines).toMatch(/executors\[0\]\.sources\[1\]\.psk: not a base64-encoded 32-byte key/);
    expect(lines).toMatch(/executors\[0\]\.sources\[2\]\.networks\[0\]\.cidrs\[0\]: "192\.168\.1\.0\/33" is not an IPv4 network/);
    expect(lines).toMatch(/executors\[0\]\.sources\[3\]\.host: .* carries a port/);
    expect(r.stderr).not.toContain('c2VjcmV0LWJ1dC10b28tc2hvcnQ=');
  });
});
