import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import tls from 'node:tls';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { CertificateSource } from '../../src/sources/certificate/index.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { readmeExamples, paramProblems } from '../helpers/readme-examples.js';
import { tempDir, freePort } from '../helpers/net.js';
import { build } from '../helpers/plugin.js';

const DAY = 86_400_000;
let tmp: ReturnType<typeof tempDir>;
let port = 0;
let silentPort = 0;
let plainPort = 0;
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
let soonNotAfter = 0;

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function stamp(ms: number): string {
  // openssl ca wants YYYYMMDDHHMMSSZ
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
}

/** A leaf for `name` signed by the test CA with the given validity. */
function issue(dir: string, name: string, start: string, end: string): { key: string; cert: string } {
  openssl(
    [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=DNS:${name}`,
    ],
    dir,
  );
  openssl(['ca', '-batch', '-config', 'ca.cnf', '-startdate', start, '-enddate', end, '-in', `${name}.csr`, '-out', `${name}.crt`, '-notext'], dir);
  return { key: readFileSync(path.join(dir, `${name}.key`), 'utf8'), cert: readFileSync(path.join(dir, `${name}.crt`), 'utf8') };
}

function track(srv: net.Server): void {
  servers.push(srv);
  srv.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
}

beforeAll(async () => {
  tmp = tempDir('pollect-cert-');
  const dir = tmp.dir;
  mkdirSync(path.join(dir, 'certs'));
  writeFileSync(path.join(dir, 'index.txt'), '');
  writeFileSync(path.join(dir, 'serial'), '1000\n');
  writeFileSync(
    path.join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = test',
      '[test]',
      'dir = .',
      'database = index.txt',
      'serial = serial',
      'new_certs_dir = certs',
      'certificate = ca.crt',
      'private_key = ca.key',
      'default_md = sha256',
      'policy = any',
      'copy_extensions = copy',
      'unique_subject = no',
      '[any]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=pollect test CA',
      '-days',
      '30',
    ],
    dir,
  );
  soonNotAfter = Math.floor((Date.now() + 5 * DAY + 3_600_000) / 1000) * 1000;
  const good = issue(dir, 'good.test', '20200101000000Z', '20991231235959Z');
  const expired = issue(dir, 'expired.test', '20200101000000Z', '20210615120000Z');
  const soon = issue(dir, 'soon.test', '20200101000000Z', stamp(soonNotAfter));

  const contexts: Record<string, tls.SecureContext> = {
    'expired.test': tls.createSecureContext(expired),
    'soon.test': tls.createSecureContext(soon),
  };
  const srv = tls.createServer({ ...good, SNICallback: (name, cb) => cb(null, contexts[name] ?? tls.createSecureContext(good)) }, (s) => s.end());
  srv.on('tlsClientError', () => {});
  track(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  port = (srv.address() as net.AddressInfo).port;

  // Accepts and never says a word.
  const silent = net.createServer(() => {});
  track(silent);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  silentPort = (silent.address() as net.AddressInfo).port;

  // Speaks plain HTTP, not TLS.
  const plain = net.createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/html\r\n\r\n<html>plain http</html>'));
  });
  track(plain);
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
  plainPort = (plain.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  tmp.remove();
});

function expectedDays(notAfterMs: number, before: number, after: number): number[] {
  return [Math.floor((notAfterMs - before) / DAY), Math.floor((notAfterMs - after) / DAY)];
}

describe('Certificate', () => {
  it('reads notAfter and days left of the default certificate (IP host: no SNI)', async () => {
    const src = build(CertificateSource, { type: 'Certificate', host: '127.0.0.1', port });
    const before = Date.now();
    const samples = await probeOnce(src);
    const after = Date.now();
    const notAfter = Date.UTC(2099, 11, 31, 23, 59, 59);
    expect(valueOf(samples, 'cert_not_after')).toBe(notAfter / 1000);
    expect(expectedDays(notAfter, before, after)).toContain(valueOf(samples, 'cert_expire_days'));
    // Signed by a CA the system does not trust, and 127.0.0.1 is not in its names.
    expect(valueOf(samples, 'cert_valid')).toBe(0);
  });

  it('selects the certificate by SNI servername and still measures an expired one', async () => {
    const src = build(CertificateSource, { type: 'Certificate', url: `https://127.0.0.1:${port}/`, servername: 'expired.test' });
    const samples = await probeOnce(src);
    const notAfter = Date.UTC(2021, 5, 15, 12, 0, 0);
    expect(valueOf(samples, 'cert_not_after')).toBe(notAfter / 1000);
    expect(valueOf(samples, 'cert_expire_days')).toBeLessThan(-365);
    expect(valueOf(samples, 'cert_expire_days')).toBe(Math.floor((notAfter - Date.now()) / DAY));
    expect(valueOf(samples, 'cert_valid')).toBe(0);
  });

  it('counts whole days down to a certificate that expires soon', async () => {
    const src = build(CertificateSource, { type: 'Certificate', host: '127.0.0.1', port, servername: 'soon.test' });
    const before = Date.now();
    const samples = await probeOnce(src);
    expect(valueOf(samples, 'cert_not_after')).toBe(soonNotAfter / 1000);
    expect(expectedDays(soonNotAfter, before, Date.now())).toContain(valueOf(samples, 'cert_expire_days'));
    expect(valueOf(samples, 'cert_expire_days')).toBe(5);
  });

  it('reports cert_valid 1 when the chain is trusted (ca param) and the name matches', async () => {
    const ok = build(CertificateSource, { type: 'Certificate', host: '127.0.0.1', port, servername: 'good.test', ca: 'ca.crt' }, { configDir: tmp.dir });
    expect(valueOf(await probeOnce(ok), 'cert_valid')).toBe(1);

    const wrongName = build(
      CertificateSource,
      { type: 'Certificate', host: '127.0.0.1', port, servername: 'other.test', ca: 'ca.crt' },
      { configDir: tmp.dir },
    );
    expect(valueOf(await probeOnce(wrongName), 'cert_valid')).toBe(0);

    const expired = build(
      CertificateSource,
      { type: 'Certificate', host: '127.0.0.1', port, servername: 'expired.test', ca: 'ca.crt' },
      { configDir: tmp.dir },
    );
    expect(valueOf(await probeOnce(expired), 'cert_valid')).toBe(0);
  });

  it('fails with a clear SourceError for a server that never completes the handshake', async () => {
    const src = build(CertificateSource, { type: 'Certificate', host: '127.0.0.1', port: silentPort, timeout: 0.3 });
    await expect(probeOnce(src)).rejects.toThrow(/127\.0\.0\.1:\d+: no TLS handshake within 285 ms/); // 0.3 s less a 5 % margin before the probe is abandoned
  });

  it('fails with a clear SourceError for a server that does not speak TLS', async () => {
    const src = build(CertificateSource, { type: 'Certificate', host: '127.0.0.1', port: plainPort, timeout: 2 });
    await expect(probeOnce(src)).rejects.toThrow(/TLS connection failed/);
  });

  it('fails with a clear SourceError when nothing listens', async () => {
    const src = build(CertificateSource, { type: 'Certificate', host: '127.0.0.1', port: await freePort(), timeout: 2 });
    await expect(probeOnce(src)).rejects.toThrow(/TLS connection failed: .*ECONNREFUSED/);
  });

  it('reports a missing ca file and an incomplete endpoint at construction, as config errors', () => {
    expect(() => build(CertificateSource, { host: '127.0.0.1', port, ca: 'nope.pem' }, { configDir: tmp.dir })).toThrow(
      expect.objectContaining({ name: 'ParamError', param: 'ca', message: expect.stringMatching(/cannot read .*nope\.pem: no such file/) }),
    );
    expect(() => build(CertificateSource, {})).toThrow(/needs "url" or "host"/);
    expect(() => build(CertificateSource, { url: 'ldap://x.test' })).toThrow(/no default TLS port/);
    expect(() => build(CertificateSource, { host: 'x.test:443' })).toThrow(/carries a port/);
  });

  it('takes host and port from an https URL (default 443) and SNI from the host name', () => {
    // Endpoint parsing only: no traffic leaves loopback.
    const src = build(CertificateSource, { type: 'Certificate', url: 'https://example.org' }) as unknown as { endpoint: object };
    expect(src.endpoint).toEqual({ host: 'example.org', port: 443, servername: 'example.org' });
  });
  it('schema: accepts the README examples, needs url or host', () => {
    const examples = readmeExamples('certificate');
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const ex of examples) expect(paramProblems(CertificateSource.schema, 'Certificate', ex)).toEqual([]);
    expect(paramProblems(CertificateSource.schema, 'Certificate', { type: 'Certificate', port: 443 })).not.toEqual([]);
    expect(paramProblems(CertificateSource.schema, 'Certificate', { type: 'Certificate', url: 'https://x', sni: 'y' }).join('\n')).toMatch(/unknown key "sni"/);
  });
});
