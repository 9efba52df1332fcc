// Sources that report a failure as data (a URL that is down, a port that refuses, a certificate
// that does not verify) are logged once when the problem starts and once when it clears, through
// the runner, never once per tick.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { SourceRunner } from '../../src/executors/source-runner.js';
import type { Point, Source, SourceConfig } from '../../src/sdk/index.js';
import { createLogger } from '../../src/log.js';
import { HttpSource } from '../../src/sources/http/index.js';
import { TcpTimeSource } from '../../src/sources/tcptime/index.js';
import { CertificateSource } from '../../src/sources/certificate/index.js';
import { build, typeName } from '../helpers/plugin.js';
import { freePort, tempDir } from '../helpers/net.js';
import { selfSigned } from '../helpers/certs.js';

const closers: (() => Promise<unknown> | void)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

/** A runner around `source` with a logger that keeps every line. */
function runnerFor(source: Source<SourceConfig>, configDir = '.') {
  const lines: string[] = [];
  const log = createLogger('', { level: 'debug', write: (l) => lines.push(l) });
  const type = typeName(source.constructor as { name: string });
  const runner = new SourceRunner({ id: `c.${type}`, collection: 'c', typeName: type, source, tickTime: 5, maxBackoff: 60, log, configDir });
  return {
    lines,
    /** Runs `n` ticks; each must succeed (a problem reported as data is not a failed probe). */
    async ticks(n: number): Promise<Point[]> {
      const points: Point[] = [];
      for (let i = 0; i < n; i++) expect(await runner.tick(Date.now(), points)).toMatchObject({ success: true, state: 'probed' });
      return points;
    },
    /** Lines logged at `level` (not DEBUG) that contain `text`. */
    said: (level: string, text: string) => lines.filter((l) => l.includes(` ${level} `) && l.includes(text)),
    /** Every line above DEBUG. */
    loud: () => lines.filter((l) => !l.includes(' DEBUG ')),
    shutdown: () => runner.shutdown(Date.now() + 1000),
  };
}

function listen(server: net.Server, port = 0): Promise<number> {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

describe('a problem reported as data is logged once when it starts and once when it clears', () => {
  it('Http: a URL that answers 503 for several ticks, then 200', async () => {
    let status = 503;
    const server = http.createServer((_req, res) => res.writeHead(status).end());
    const port = await listen(server);
    closers.push(() => new Promise((r) => server.close(r)));
    const r = runnerFor(build(HttpSource, { url: `http://127.0.0.1:${port}/health` }));
    const points = await r.ticks(4);
    expect(points.filter((p) => p.name.value === 'success').map((p) => p.value)).toEqual([0, 0, 0, 0]);
    expect(r.loud()).toEqual([expect.stringMatching(new RegExp(`WARN +c\\.Http: GET http://127\\.0\\.0\\.1:${port}/health: unexpected status 503$`))]);
    status = 200;
    await r.ticks(3);
    expect(r.said('INFO', 'c.Http: no longer reports a problem')).toHaveLength(1);
    expect(r.loud()).toHaveLength(2);
    await r.shutdown();
  });

  it('TcpTime: a port that refuses for several ticks, then accepts', async () => {
    const port = await freePort();
    const r = runnerFor(build(TcpTimeSource, { host: '127.0.0.1', port, timeout: 2 }));
    await r.ticks(4);
    expect(r.loud()).toEqual([expect.stringMatching(new RegExp(`WARN +c\\.TcpTime: connect to 127\\.0\\.0\\.1:${port} failed: .*refused`, 'i'))]);
    const server = net.createServer((s) => s.destroy());
    await listen(server, port);
    closers.push(() => new Promise((res) => server.close(res)));
    const points = await r.ticks(3);
    expect(points.filter((p) => p.name.value === 'success').map((p) => p.value)).toEqual([1, 1, 1]);
    expect(r.said('INFO', 'c.TcpTime: no longer reports a problem')).toHaveLength(1);
    expect(r.loud()).toHaveLength(2);
    await r.shutdown();
  });

  it('Certificate: a certificate for another name for several ticks, then the right one', async () => {
    const t = tempDir();
    closers.push(t.remove);
    const cert = (name: string) => {
      const files = selfSigned(t.dir, { key: `${name}.key`, cert: `${name}.crt`, cn: name, san: `DNS:${name}`, days: 30 });
      return { key: readFileSync(path.join(t.dir, files.key)), cert: readFileSync(path.join(t.dir, files.cert)) };
    };
    const right = cert('right.test');
    const wrong = cert('wrong.test');
    // Both are trusted; only one is for the name asked for.
    writeFileSync(path.join(t.dir, 'trusted.pem'), Buffer.concat([right.cert, wrong.cert]));
    const server = tls.createServer(wrong, (s) => s.end());
    server.on('tlsClientError', () => {});
    const port = await listen(server);
    closers.push(() => new Promise((r) => server.close(r)));
    const source = build(CertificateSource, { host: '127.0.0.1', port, servername: 'right.test', ca: 'trusted.pem' }, { configDir: t.dir });
    const r = runnerFor(source, t.dir);
    await r.ticks(4);
    expect(r.loud()).toEqual([expect.stringMatching(/WARN +c\.Certificate: 127\.0\.0\.1:\d+: certificate does not verify: ERR_TLS_CERT_ALTNAME_INVALID$/)]);
    server.setSecureContext(right);
    const points = await r.ticks(3);
    expect(points.filter((p) => p.name.value === 'cert_valid').map((p) => p.value)).toEqual([1, 1, 1]);
    expect(r.said('INFO', 'c.Certificate: no longer reports a problem')).toHaveLength(1);
    expect(r.loud()).toHaveLength(2);
    await r.shutdown();
  });
});
