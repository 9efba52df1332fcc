// One validation policy: whatever can be known before start is a config error that `pollect
// --check` reports with its path and exit code 2, whether the schema finds it or a constructor.
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { main } from '../../src/cli.js';
import { tempDir } from '../helpers/net.js';

const dir = tempDir();
afterAll(() => dir.remove());

// [what, the source's config, a line pollect must print]
const CASES: [string, Record<string, unknown>, RegExp][] = [
  ['a Process procRegex that does not compile', { type: 'Process', procRegex: '([' }, /executors\[0\]\.sources\[0\]\.procRegex: invalid regex "\(\[": /],
  [
    'SNMPv3 without a username',
    { type: 'SnmpGet', host: '127.0.0.1', snmpVersion: 3, metrics: [{ name: 'up', oid: '1.3.6.1.2.1.1.3.0' }] },
    /\.sources\[0\]\.username: is required/,
  ],
  [
    'privacyProtocol SHA (an authentication protocol)',
    {
      type: 'SnmpGet',
      host: '127.0.0.1',
      snmpVersion: 3,
      username: 'u',
      authPassPhrase: 'abcdefgh',
      privacyPassPhrase: 'abcdefgh',
      privacyProtocol: 'SHA',
      metrics: [{ name: 'up', oid: '1.3.6.1.2.1.1.3.0' }],
    },
    /\.sources\[0\]\.privacyProtocol: must be one of "DES", "AES"/,
  ],
  [
    'SNMPv3 privacy without authentication',
    { type: 'SnmpGet', host: 'h', snmpVersion: '3', username: 'u', privacyPassPhrase: 'abcdefgh', metrics: [{ name: 'up', oid: '1.3.6.1' }] },
    /\.sources\[0\]: must have property authPassPhrase/,
  ],
  [
    'an SNMP metric that is not an OID',
    { type: 'SnmpGet', host: 'h', metrics: [{ name: 'up', oid: 'sysUpTime.0' }] },
    /\.sources\[0\]\.metrics\[0\]\.oid: "sysUpTime\.0" is not a numeric OID/,
  ],
  ['a SmartCtl device regex that does not compile', { type: 'SmartCtl', devices: ['sd[a'] }, /\.sources\[0\]\.devices\[0\]: invalid regex/],
  [
    'a K8s client certificate that cannot be read',
    { type: 'K8s', host: '10.0.0.1', cert: 'missing.crt', key: 'missing.key' },
    /\.sources\[0\]\.cert: cannot read .*missing\.crt: no such file/,
  ],
  ['a K8s cert without its key', { type: 'K8s', host: '10.0.0.1', cert: 'a.crt' }, /\.sources\[0\]\.key: "cert" and "key" go together/],
  ['a K8s host with a port in it', { type: 'K8s', host: '10.0.0.1:10250' }, /\.sources\[0\]\.host: "10\.0\.0\.1:10250" carries a port/],
  [
    'a Dramatiq TLS CA file that cannot be read',
    { type: 'Dramatiq', tls: { ca: 'nope/ca.pem' } },
    /\.sources\[0\]\.tls\.ca: cannot read .*ca\.pem: no such file/,
  ],
  ['a Certificate CA file that cannot be read', { type: 'Certificate', host: 'example.org', ca: 'ca.pem' }, /\.sources\[0\]\.ca: cannot read/],
  ['a Certificate url without a TLS port', { type: 'Certificate', url: 'gopher://example.org' }, /\.sources\[0\]\.url: .*has no port/],
  ['a TcpTime port out of range', { type: 'TcpTime', host: 'example.org', port: 70000 }, /\.sources\[0\]\.port: must be <= 65535/],
  [
    'an Http url that is not http',
    { type: 'Http', url: ['http://a.example', 'ftp://b.example/'] },
    /\.sources\[0\]\.url\[1\]: the URL must start with http:\/\/ or https:\/\//,
  ],
  ['an Http proxy that is not a URL', { type: 'Http', url: 'http://a.example', proxy: 'proxy:3128' }, /\.sources\[0\]\.proxy: /],
  ['a Bind url that is not a URL', { type: 'Bind', url: 'localhost:8053' }, /\.sources\[0\]\.url: /],
  [
    'an OpenStack authUrl that is not http',
    { type: 'OpenStack', authUrl: 'keystone:5000', username: 'u', password: 'p', projectName: 'x' },
    /\.sources\[0\]\.authUrl: /,
  ],
  ['a Docker host given as a URL', { type: 'Docker', host: 'tcp://10.0.0.2:2375' }, /\.sources\[0\]\.host: "tcp:\/\/10\.0\.0\.2:2375" is not a host name/],
  [
    'an Exec command with shell syntax',
    { type: 'Exec', command: 'cat /proc/loadavg | head', format: 'graphite' },
    /\.sources\[0\]\.command: command .* uses shell syntax/,
  ],
  [
    'an Exec cwd that does not exist',
    { type: 'Exec', command: 'true', format: 'json', cwd: 'no-such-dir' },
    /\.sources\[0\]\.cwd: .*no-such-dir is not a directory/,
  ],
  ['an Exec typesDb that cannot be read', { type: 'Exec', command: 'true', format: 'collectd', typesDb: 'types.db' }, /\.sources\[0\]\.typesDb: cannot read/],
  ['a HttpIngress host with a port', { type: 'HttpIngress', host: '127.0.0.1:9000', port: 9000, metrics: { m: {} } }, /\.sources\[0\]\.host: .*carries a port/],
];

let stdout = '';
let stderr = '';
beforeEach(() => {
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

async function check(source: Record<string, unknown>, name: string): Promise<number> {
  const file = path.join(dir.dir, `${name.replace(/\W+/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ writer: { type: 'DryRun' }, executors: [{ sources: [source] }] }));
  return main(['node', 'pollect', '-c', file, '--check']);
}

describe('pollect --check', () => {
  it.each(CASES)('rejects %s with exit 2 and the path', async (name, source, line) => {
    const code = await check(source, name);
    expect(stderr).toMatch(line);
    expect(stderr.startsWith('pollect: invalid config:\n')).toBe(true);
    expect(code).toBe(2);
    expect(stdout).toBe('');
  });

  it('passes the same sources once the params are right', async () => {
    for (const source of [
      { type: 'Process', procRegex: '(node|python)' },
      {
        type: 'SnmpGet',
        host: '127.0.0.1',
        snmpVersion: 3,
        username: 'u',
        authPassPhrase: 'abcdefgh',
        privacyPassPhrase: 'abcdefgh',
        privacyProtocol: 'AES',
        metrics: [{ name: 'up', oid: '1.3.6.1.2.1.1.3.0' }],
      },
      { type: 'K8s', host: 'fe80::1' },
      { type: 'TcpTime', host: '::1', port: 22 },
      { type: 'Http', url: ['http://a.example', 'https://b.example/'], proxy: 'http://proxy:3128' },
    ]) {
      expect(await check(source, `ok-${source.type}`), stderr).toBe(0);
    }
    expect(stdout).toMatch(/OK \(1 executor\(s\), 1 source\(s\)\)/);
  });

  it('names the path of a failing param in any executor and source', async () => {
    const file = path.join(dir.dir, 'deep.json');
    writeFileSync(
      file,
      JSON.stringify({
        writer: { type: 'DryRun' },
        executors: [{ sources: [{ type: 'Dummy' }] }, { sources: [{ type: 'Dummy' }, { type: 'Process', procRegex: '*x' }] }],
      }),
    );
    expect(await main(['node', 'pollect', '-c', file, '--check'])).toBe(2);
    expect(stderr).toMatch(/^ {2}executors\[1\]\.sources\[1\]\.procRegex: invalid regex "\*x": /m);
  });
});
