// contrib/grafana/pollect.json: a real Prometheus scrapes a real pollect (the host sources the
// dashboard shows, self-metrics on, 1 s ticks), and every query of every panel returns data.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN } from '../helpers/cli.js';
import { freePort, spawnDaemon, tempDir, waitForPort, type Daemon } from '../helpers/net.js';
import { needs } from '../helpers/servers.js';

interface Target {
  expr: string;
  refId: string;
}
interface Panel {
  type: string;
  title: string;
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
}
const DASHBOARD = JSON.parse(readFileSync(path.resolve(__dirname, '../../contrib/grafana/pollect.json'), 'utf8')) as {
  panels: Panel[];
  templating: { list: Variable[] };
};

/** A query as Grafana sends it with "All" chosen: every job and instance, the default collection. */
function expand(expr: string): string {
  return expr.replaceAll('$__rate_interval', '15s').replaceAll('${collection}', 'pollect').replaceAll('$job', '.+').replaceAll('$instance', '.+');
}

async function query(port: number, q: string): Promise<unknown[]> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { status: string; error?: string; data: { result: unknown[] } };
  if (body.status !== 'success') throw new Error(`${q}: ${body.error}`);
  return body.data.result;
}

describe.skipIf(!needs('prometheus'))('contrib/grafana/pollect.json', () => {
  const tmp = tempDir('pollect-grafana-');
  const daemons: Daemon[] = [];
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    tmp.remove();
  });

  it('uses only the variables it defines, and its host panels follow $collection', () => {
    const vars = new Set(['__rate_interval', ...DASHBOARD.templating.list.map((v) => v.name)]);
    const exprs = DASHBOARD.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    for (const e of exprs) for (const m of e.matchAll(/\$\{?(\w+)/g)) expect(vars, e).toContain(m[1]);
    expect(DASHBOARD.panels.filter((p) => p.type === 'timeseries').length).toBeGreaterThanOrEqual(14);
  });

  it('every panel query returns data from a real Prometheus scraping pollect', async () => {
    const pollectPort = await freePort();
    const promPort = await freePort();
    const config = path.join(tmp.dir, 'pollect.json');
    writeFileSync(
      config,
      JSON.stringify({
        tickTime: 1,
        writers: [{ type: 'Prometheus', host: '127.0.0.1', port: pollectPort }],
        executors: [
          {
            collection: 'pollect',
            sources: [
              { type: 'LoadAvg' },
              { type: 'Cpu' },
              { type: 'MemoryUsage' },
              { type: 'DiskUsage', disks: ['/'] },
              { type: 'IO' },
              { type: 'Interface' },
            ],
          },
        ],
      }),
    );
    daemons.push(spawnDaemon(process.execPath, [BIN, '-c', config]));
    await waitForPort(pollectPort);
    writeFileSync(
      path.join(tmp.dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: pollect',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${pollectPort}']`,
        '',
      ].join('\n'),
    );
    daemons.push(
      spawnDaemon('prometheus', [
        `--config.file=${path.join(tmp.dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(tmp.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ]),
    );
    await waitForPort(promPort);

    const queries = DASHBOARD.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: `${p.title} ${t.refId}`, expr: expand(t.expr) })));
    // The variables' own queries: label_values(METRIC, LABEL) needs METRIC with LABEL.
    for (const v of DASHBOARD.templating.list) {
      const q = typeof v.query === 'string' ? v.query : v.query.query;
      const m = /^label_values\((.+), (\w+)\)$/.exec(q);
      if (m) queries.push({ panel: `variable ${v.name}`, expr: expand(`count by (${m[2]}) (${m[1]})`) });
    }
    let empty: string[] = queries.map((q) => q.panel);
    const end = Date.now() + 45_000;
    while (empty.length && Date.now() < end) {
      const results = await Promise.all(queries.map(async (q) => ((await query(promPort, q.expr).catch(() => [])).length > 0 ? undefined : q.panel)));
      empty = results.filter((p): p is string => p !== undefined);
      if (empty.length) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(empty, `panels without data; pollect and prometheus said: ${daemons.map((d) => d.output().slice(-1000)).join('\n')}`).toEqual([]);
    // And the queries are valid PromQL (an error would have counted as empty, but say which).
    for (const q of queries) await expect(query(promPort, q.expr), q.panel).resolves.toBeDefined();
  }, 90_000);
});
