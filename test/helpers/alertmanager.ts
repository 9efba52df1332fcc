// A real Alertmanager (Debian's prometheus-alertmanager) on a free loopback port, its data in a
// temporary directory, gossip off. Its one receiver is a webhook to a local server here, so a
// test sees what Alertmanager itself sends on: firing, then resolved (GET /api/v2/alerts shows
// active alerts only; a resolved one just disappears from it).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, spawnDaemon, tempDir, waitForUrl, type Daemon } from './net.js';

/** An alert as GET /api/v2/alerts returns it. */
export interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
  status: { state: string };
}

/** One notification Alertmanager's webhook receiver sent (its webhook format, version 4). */
export interface Delivery {
  status: 'firing' | 'resolved';
  alerts: { status: 'firing' | 'resolved'; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string }[];
}

export interface Alertmanager {
  url: string;
  /** Active alerts (GET /api/v2/alerts), with `headers` (credentials) if the web config asks for them. */
  alerts(headers?: Record<string, string>): Promise<ApiAlert[]>;
  /** What Alertmanager delivered to its webhook receiver so far. */
  deliveries: Delivery[];
  output(): string;
  remove(): Promise<void>;
}

export interface AlertmanagerOptions {
  /** Alertmanager's web config (`--web.config.file`), as YAML: basic auth users, TLS. */
  webConfig?: string;
}

export async function alertmanager(opts: AlertmanagerOptions = {}): Promise<Alertmanager> {
  const tmp = tempDir('pollect-am-');
  const deliveries: Delivery[] = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      deliveries.push(JSON.parse(body) as Delivery);
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
  const port = await freePort();
  const config = path.join(tmp.dir, 'alertmanager.yml');
  // Short group timings so a test sees deliveries within a second.
  writeFileSync(
    config,
    [
      'route:',
      '  receiver: hook',
      '  group_by: ["..."]',
      '  group_wait: 50ms',
      '  group_interval: 200ms',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: hook',
      '    webhook_configs:',
      `      - url: "${hook}"`,
      '        send_resolved: true',
      '',
    ].join('\n'),
  );
  const args = [
    `--config.file=${config}`,
    `--storage.path=${path.join(tmp.dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ];
  if (opts.webConfig !== undefined) {
    const web = path.join(tmp.dir, 'web.yml');
    writeFileSync(web, opts.webConfig);
    args.push(`--web.config.file=${web}`);
  }
  const daemon: Daemon = spawnDaemon('prometheus-alertmanager', args);
  const url = `http://127.0.0.1:${port}`;
  try {
    // With basic auth on, /-/ready answers 401: wait for the port instead.
    if (opts.webConfig === undefined) await waitForUrl(`${url}/-/ready`);
    else await waitForUrlAnswering(`${url}/-/ready`);
  } catch (err) {
    await daemon.stop();
    throw new Error(`${(err as Error).message}\n${daemon.output()}`);
  }
  return {
    url,
    deliveries,
    async alerts(headers) {
      const res = await fetch(`${url}/api/v2/alerts`, { headers });
      if (!res.ok) throw new Error(`GET /api/v2/alerts: ${res.status} ${await res.text()}`);
      return (await res.json()) as ApiAlert[];
    },
    output: daemon.output,
    async remove() {
      await daemon.stop();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
      tmp.remove();
    },
  };
}

/** Polls `url` until it answers at all (any status). */
async function waitForUrlAnswering(url: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url).then(
      () => true,
      () => false,
    );
    if (ok) return;
    if (Date.now() > end) throw new Error(`${url} not answering after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
