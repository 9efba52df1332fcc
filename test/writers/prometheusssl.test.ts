// PrometheusSsl, the Python pollect's HTTPS exporter (README snippet 09): loads unchanged and
// serves the exposition over HTTPS, as the Prometheus writer with tls does.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { buildConfig } from '../../src/config/load.js';
import type { ConfigError } from '../../src/config/errors.js';
import { Daemon } from '../../src/executors/daemon.js';
import type { PrometheusSslWriter } from '../../src/writers/prometheusssl/index.js';
import { createLogger } from '../../src/log.js';
import { selfSigned } from '../helpers/certs.js';
import { tempDir } from '../helpers/net.js';

const tmp = tempDir();
afterAll(() => tmp.remove());
const log = createLogger('test', { level: 'error', write: () => {} });

function get(port: number, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: '/metrics', ca, timeout: 10_000 }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('PrometheusSsl', () => {
  it('is the Prometheus writer with tls from key and cert, serving HTTPS', async () => {
    selfSigned(tmp.dir, { key: 'key.key', cert: 'cert.pem' });
    const file = path.join(tmp.dir, 'c.json');
    const raw = {
      writers: [{ type: 'PrometheusSsl', port: 0, host: '127.0.0.1', key: 'key.key', cert: 'cert.pem' }],
      executors: [{ sources: [{ type: 'Dummy', value: 7 }] }],
    };
    writeFileSync(file, JSON.stringify(raw));
    const cfg = await buildConfig(raw, file, { env: {} });
    expect(cfg.writers[0]!.typeName).toBe('PrometheusSsl');
    const daemon = new Daemon(cfg, { log });
    await daemon.start();
    try {
      const writer = daemon.writers[0]!.writer as PrometheusSslWriter;
      // The first tick's batch reaches the writer through its runtime: wait until it is written.
      for (let i = 0; daemon.writers[0]!.stats().written === 0; i++) {
        if (i > 200) throw new Error('the first batch was never written');
        await new Promise((r) => setTimeout(r, 10));
      }
      const res = await get(writer.port, readFileSync(path.join(tmp.dir, 'cert.pem'), 'utf8'));
      expect(res.status).toBe(200);
      expect(res.body).toMatch(/^pollect_Dummy 7$/m);
    } finally {
      await daemon.stop();
    }
  });

  it('names key and cert, not tls.key, in its errors', async () => {
    const raw = { writers: [{ type: 'PrometheusSsl', port: 8000, key: 'nope.key', cert: 'cert.pem' }], executors: [{ sources: [{ type: 'Dummy' }] }] };
    const cfg = await buildConfig(raw, path.join(tmp.dir, 'c.json'), { env: {} });
    const err = (() => {
      try {
        new Daemon(cfg, { log });
      } catch (e) {
        return e;
      }
    })();
    expect((err as ConfigError).problems).toEqual([expect.stringMatching(/^writers\[0\]\.key: cannot read .*nope\.key: no such file$/)]);
    await expect(buildConfig({ ...raw, writers: [{ type: 'PrometheusSsl', port: 8000 }] }, '/x/c.json', { env: {} })).rejects.toThrow(
      /writers\[0\]\.key: is required/,
    );
  });
});
