// Real remote_write receivers on free loopback ports, with their data in a temporary directory:
// VictoriaMetrics (`/api/v1/write`) and Prometheus with --web.enable-remote-write-receiver.
// start() after stop() reopens the same data (an outage, not a new server). Both answer the
// Prometheus query API; VictoriaMetrics also exports raw samples.
import path from 'node:path';
import { freePort, restartable, spawnDaemon, tempDir, type Daemon } from './net.js';

export interface Tsdb {
  /** The remote_write endpoint. */
  writeUrl: string;
  /** The base URL of the query API. */
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  remove(): Promise<void>;
  /** An instant query at `time` (s): the result vector. */
  query(q: string, time?: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  output(): string;
}

/** `flushPath`: asked before each query, for a server that makes what it took searchable only after a flush. */
function tsdb(port: number, dir: { dir: string; remove: () => void }, writePath: string, readyPath: string, spawn: () => Daemon, flushPath?: string): Tsdb {
  const url = `http://127.0.0.1:${port}`;
  const server = restartable(port, spawn, `${url}${readyPath}`);
  return {
    url,
    writeUrl: `${url}${writePath}`,
    start: server.start,
    stop: server.stop,
    async remove() {
      await server.stop();
      dir.remove();
    },
    async query(q, time = Date.now() / 1000) {
      if (flushPath) await fetch(`${url}${flushPath}`);
      const res = await fetch(`${url}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: q, time: String(time) }) });
      const body = (await res.json()) as { status: string; error?: string; data: { result: never[] } };
      if (body.status !== 'success') throw new Error(`query ${q}: ${body.error}`);
      return body.data.result;
    },
    output: server.output,
  };
}

export async function victoriaMetrics(): Promise<Tsdb> {
  const dir = tempDir('pollect-vm-');
  const port = await freePort();
  return tsdb(
    port,
    dir,
    '/api/v1/write',
    '/health',
    () =>
      spawnDaemon('victoria-metrics', [
        `-storageDataPath=${dir.dir}`,
        `-httpListenAddr=127.0.0.1:${port}`,
        // Fresh samples are queryable at once (the default hides the last 30 s).
        '-search.latencyOffset=0s',
        '-search.disableCache',
        '-loggerLevel=ERROR',
      ]),
    // What VictoriaMetrics took is searchable after its next flush, up to about 10 s later; this flushes at once.
    '/internal/force_flush',
  );
}

export async function prometheusReceiver(): Promise<Tsdb> {
  const dir = tempDir('pollect-prom-rw-');
  const port = await freePort();
  const config = path.join(dir.dir, 'prometheus.yml');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(config, 'global: {}\n');
  return tsdb(port, dir, '/api/v1/write', '/-/ready', () =>
    spawnDaemon('prometheus', [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
      '--log.level=warn',
    ]),
  );
}
