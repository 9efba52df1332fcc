// A real InfluxDB 1.x (Debian's influxd) on free loopback ports, with its data in a temporary
// directory; start() again after stop() reopens the same data (an outage, not a new server).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, restartable, spawnDaemon, tempDir } from './net.js';

export interface Influxd {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  remove(): Promise<void>;
  /** Runs InfluxQL and returns the first statement's series. */
  query(db: string, q: string): Promise<{ name: string; columns: string[]; values: unknown[][]; tags?: Record<string, string> }[]>;
  output(): string;
}

export async function influxd(): Promise<Influxd> {
  const tmp = tempDir('pollect-influx-');
  const http = await freePort();
  const rpc = await freePort();
  const conf = path.join(tmp.dir, 'influxdb.conf');
  writeFileSync(
    conf,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpc}"`,
      `[meta]\n  dir = "${tmp.dir}/meta"`,
      `[data]\n  dir = "${tmp.dir}/data"\n  wal-dir = "${tmp.dir}/wal"\n  query-log-enabled = false`,
      `[http]\n  bind-address = "127.0.0.1:${http}"\n  log-enabled = false`,
      '[monitor]\n  store-enabled = false',
      '[continuous_queries]\n  enabled = false',
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${http}`;
  const server = restartable(http, () => spawnDaemon('influxd', ['run', '-config', conf]));
  return {
    url,
    start: server.start,
    stop: server.stop,
    async remove() {
      await server.stop();
      tmp.remove();
    },
    async query(db, q) {
      const res = await fetch(`${url}/query?db=${encodeURIComponent(db)}&q=${encodeURIComponent(q)}`, { method: 'POST' });
      const body = (await res.json()) as { results: { series?: never[]; error?: string }[]; error?: string };
      const err = body.error ?? body.results[0]?.error;
      if (err) throw new Error(`influxd: ${err}`);
      return body.results[0]?.series ?? [];
    },
    output: server.output,
  };
}
