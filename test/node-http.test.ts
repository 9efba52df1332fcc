// The Prometheus endpoint over plain HTTP loads neither TLS, crypto nor undici: on Node 22 and newer
// an ES import of node:http would load all three (17 MB of RSS on Node 24; src/core/node-http.ts).
// On Node 20 node:http has no such getters; CI runs this file under Node 24 as well.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN } from './helpers/cli.js';
import { freePort, tempDir } from './helpers/net.js';

const tmp = tempDir('pollect-node-http-');
afterAll(() => tmp.remove());

describe('a daemon serving Prometheus over plain HTTP', () => {
  it('has loaded no TLS, crypto or undici when it stops', async () => {
    const port = await freePort();
    const config = path.join(tmp.dir, 'c.json');
    writeFileSync(
      config,
      JSON.stringify({ writers: [{ type: 'Prometheus', host: '127.0.0.1', port }], executors: [{ collection: 'c', sources: [{ type: 'Dummy' }] }] }),
    );
    const report = path.join(tmp.dir, 'report.mjs');
    writeFileSync(
      report,
      `process.on('exit', () => process.stderr.write('LOADED ' + process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)).join(' ') + '\\n'));\n`,
    );
    const r = spawnSync(process.execPath, ['--import', report, BIN, '-c', config, '--once'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    const loaded = (/^LOADED (.*)$/m.exec(r.stderr)?.[1] ?? '').split(' ');
    // The endpoint ran: node:http is loaded.
    expect(loaded).toContain('http');
    expect(loaded.filter((m) => /^(tls|https|crypto|internal\/deps\/undici\/undici)$/.test(m))).toEqual([]);
  });
});
