// The `node` naming: its renames on synthetic points, the raw counters' names in the `prometheus`
// naming, and the naming beside the real node_exporter (Debian's prometheus-node-exporter): a real
// Prometheus scrapes both every second, then runs expressions taken from the "Node Exporter Full"
// dashboard (grafana.com 1860) and from node-mixin's alerts and recording rules on each; both must
// return the same series (labels but job and instance) with values within the stated tolerance.
// Counters are compared as rates, as those expressions use them. node_exporter runs with upstream's
// default filters (Debian patches some), which pollect's node naming follows. pollect serves the
// same readings twice: with `timestamps` (the job checked) and without (measured, printed beside it:
// the rate error that timestamps remove). Runs the built daemon (dist/: npm test builds it; alone:
// npm run build first).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN } from '../helpers/cli.js';
import { freePort, spawnDaemon, tempDir, waitForPort, type Daemon } from '../helpers/net.js';
import { needs } from '../helpers/servers.js';
import { batch, point } from '../helpers/points.js';
import { configFor } from '../helpers/plugin.js';
import { PrometheusWriter } from '../../src/writers/prometheus/index.js';
import { meminfoFamily } from '../../src/writers/prometheus/naming-node.js';
import type { Point } from '../../src/sdk/index.js';

const NODE_EXPORTER = 'prometheus-node-exporter';

/** node_exporter's upstream defaults (collector/{filesystem,diskstats,netdev}_linux.go), which Debian's build changes. */
const UPSTREAM_FLAGS = [
  '--collector.filesystem.mount-points-exclude=^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)',
  '--collector.filesystem.fs-types-exclude=^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$',
  '--collector.diskstats.device-exclude=^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$',
  '--collector.netdev.device-exclude=',
];
/** The collectors pollect's host sources stand in for. */
const COLLECTORS = ['cpu', 'meminfo', 'loadavg', 'filesystem', 'netdev', 'diskstats', 'stat', 'time', 'uname'];

/**
 * The rate window: five scrapes at 1 s. pollect reads its counters once a tick (1 s here); served
 * without timestamps, Prometheus stamps a reading with the time of the scrape that finds it, up
 * to a tick later, so a window can hold a tick more or less of counting than its length (up to
 * 1/4 of a rate over 5 s). With `timestamps` each reading keeps the time it was read, as
 * node_exporter's (read at the scrape) do, and the windows agree.
 */
const W = '5s';
const DISKS = '(/dev/)?(mmcblk.p.+|nvme.+|rbd.+|sd.+|vd.+|xvd.+|dm-.+|md.+|dasd.+)';

interface Check {
  from: string;
  /** PromQL with `JOB` where the job's matcher goes. */
  expr: string;
  /** |a - b| <= max(abs, rel * max(|a|, |b|)). */
  abs: number;
  rel?: number;
}

// Gauges read by two processes up to a second apart: exact where the kernel keeps them still, else
// what a busy machine changes within a second (memory: 3 % of RAM, 256 MiB); rates over 5 s windows whose scrapes are up to 1 s apart: 30 % or an absolute floor
// (other tests on this machine write to disk in bursts).
const CHECKS: Check[] = [
  { from: '1860 CPU Cores', expr: 'count(count(node_cpu_seconds_total{JOB}) by (cpu))', abs: 0 },
  { from: '1860 Uptime', expr: 'node_time_seconds{JOB} - node_boot_time_seconds{JOB}', abs: 3 },
  { from: '1860 RootFS Total', expr: 'node_filesystem_size_bytes{JOB,mountpoint="/",fstype!="rootfs"}', abs: 0 },
  { from: '1860 RAM Total', expr: 'node_memory_MemTotal_bytes{JOB}', abs: 0 },
  { from: '1860 SWAP Total', expr: 'node_memory_SwapTotal_bytes{JOB}', abs: 0 },
  { from: '1860 Sys Load', expr: 'scalar(node_load1{JOB}) * 100 / count(count(node_cpu_seconds_total{JOB}) by (cpu))', abs: 10, rel: 0.15 },
  { from: '1860 RAM Used', expr: '(1 - (node_memory_MemAvailable_bytes{JOB} / node_memory_MemTotal_bytes{JOB})) * 100', abs: 3 },
  {
    from: '1860 RootFS Used',
    expr: '100 - ((node_filesystem_avail_bytes{JOB,mountpoint="/",fstype!="rootfs"} * 100) / node_filesystem_size_bytes{JOB,mountpoint="/",fstype!="rootfs"})',
    abs: 0.5,
  },
  { from: '1860 CPU Busy', expr: `100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle",JOB}[${W}])))`, abs: 15 },
  {
    from: '1860 CPU Basic (system share)',
    expr: `sum(rate(node_cpu_seconds_total{mode="system",JOB}[${W}])) / sum(rate(node_cpu_seconds_total{JOB}[${W}]))`,
    abs: 0.15,
  },
  {
    from: '1860 Memory Basic (used)',
    expr: 'node_memory_MemTotal_bytes{JOB} - node_memory_MemFree_bytes{JOB} - (node_memory_Cached_bytes{JOB} + node_memory_Buffers_bytes{JOB} + node_memory_SReclaimable_bytes{JOB})',
    // Other processes on a shared machine allocate and free hundreds of MB within a second.
    abs: 256 * 2 ** 20,
  },
  { from: '1860 Network Traffic Basic', expr: `rate(node_network_receive_bytes_total{JOB,device!="lo"}[${W}]) * 8`, abs: 2 ** 20, rel: 0.3 },
  {
    from: '1860 Disk Space Used Basic',
    expr: "100 - ((node_filesystem_avail_bytes{JOB,device!~'rootfs'} * 100) / node_filesystem_size_bytes{JOB,device!~'rootfs'})",
    abs: 0.5,
  },
  { from: '1860 Disk IOps (reads)', expr: `rate(node_disk_reads_completed_total{JOB}[${W}])`, abs: 100, rel: 0.3 },
  { from: '1860 Disk IOps (writes)', expr: `rate(node_disk_writes_completed_total{JOB}[${W}])`, abs: 100, rel: 0.3 },
  { from: '1860 Disk R/W Data', expr: `rate(node_disk_written_bytes_total{JOB}[${W}])`, abs: 8 * 2 ** 20, rel: 0.3 },
  { from: '1860 Time Spent Doing I/Os', expr: `rate(node_disk_io_time_seconds_total{JOB}[${W}])`, abs: 0.25 },
  { from: '1860 System uname', expr: 'node_uname_info{JOB}', abs: 0 },
  {
    from: 'mixin NodeFilesystemSpaceFillingUp',
    expr: 'node_filesystem_avail_bytes{JOB,fstype!="",mountpoint!=""} / node_filesystem_size_bytes{JOB,fstype!="",mountpoint!=""} * 100',
    abs: 0.5,
  },
  {
    from: 'mixin NodeFilesystemFilesFillingUp',
    expr: 'node_filesystem_files_free{JOB,fstype!="",mountpoint!=""} / node_filesystem_files{JOB,fstype!="",mountpoint!=""} * 100',
    abs: 0.5,
  },
  { from: 'mixin NodeFilesystem* (readonly)', expr: 'node_filesystem_readonly{JOB,fstype!="",mountpoint!=""}', abs: 0 },
  { from: 'mixin NodeNetworkReceiveErrs', expr: `rate(node_network_receive_errs_total{JOB}[${W}])`, abs: 1 },
  { from: 'mixin NodeNetworkTransmitErrs', expr: `rate(node_network_transmit_errs_total{JOB}[${W}])`, abs: 1 },
  {
    from: 'mixin NodeCPUHighUsage',
    expr: `sum without(mode) (avg without (cpu) (rate(node_cpu_seconds_total{JOB, mode!~"idle|iowait"}[${W}]))) * 100`,
    abs: 15,
  },
  { from: 'mixin NodeSystemSaturation', expr: 'node_load1{JOB} / count without (cpu, mode) (node_cpu_seconds_total{JOB, mode="idle"})', abs: 0.1, rel: 0.15 },
  { from: 'mixin NodeMemoryHighUtilization', expr: '100 - (node_memory_MemAvailable_bytes{JOB} / node_memory_MemTotal_bytes{JOB} * 100)', abs: 3 },
  { from: 'mixin NodeDiskIOSaturation', expr: `rate(node_disk_io_time_weighted_seconds_total{JOB, device=~"${DISKS}"}[${W}])`, abs: 2 },
  { from: 'mixin rule instance:node_num_cpu:sum', expr: 'count without (cpu, mode) (node_cpu_seconds_total{JOB,mode="idle"})', abs: 0 },
  {
    from: 'mixin rule instance:node_memory_utilisation:ratio',
    expr: '1 - ((node_memory_MemAvailable_bytes{JOB} or (node_memory_Buffers_bytes{JOB} + node_memory_Cached_bytes{JOB} + node_memory_MemFree_bytes{JOB} + node_memory_Slab_bytes{JOB})) / node_memory_MemTotal_bytes{JOB})',
    abs: 0.03,
  },
  {
    from: 'mixin rule instance:node_cpu:sum (every mode: the cores)',
    expr: `sum without (cpu, mode) (rate(node_cpu_seconds_total{JOB}[${W}]))`,
    abs: 0,
    rel: 0.1,
  },
  {
    from: 'mixin rule instance:node_network_transmit_bytes_excluding_lo:rate5m',
    expr: `sum without (device) (rate(node_network_transmit_bytes_total{JOB, device!="lo"}[${W}]))`,
    abs: 2 ** 20,
    rel: 0.3,
  },
  {
    from: 'mixin rule instance_device:node_disk_io_time_seconds:rate5m',
    expr: `rate(node_disk_io_time_seconds_total{JOB, device=~"${DISKS}"}[${W}])`,
    abs: 0.25,
  },
];

type Vector = { metric: Record<string, string>; value: [number, string] }[];

let promPort = 0;

async function query(q: string, time?: number): Promise<Vector> {
  const t = time === undefined ? '' : `&time=${time}`;
  const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}${t}`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { status: string; data: { result: Vector } };
  if (body.status !== 'success') throw new Error(`query ${q}: ${JSON.stringify(body)}`);
  return body.data.result;
}

/** A series' identity without the labels the two jobs differ in. */
function identity(metric: Record<string, string>): string {
  const { job: _j, instance: _i, __name__: _n, ...rest } = metric;
  return JSON.stringify(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('Prometheus writer: node naming', () => {
  const writer = () => new PrometheusWriter(configFor(PrometheusWriter, { port: 0, host: '127.0.0.1', naming: 'node' }));
  const host = (type: string, value: string | undefined, v: number, labels: Record<string, string> = {}, over: Partial<Point> = {}) =>
    point(value ? `host.${type}.${value}` : `host.${type}`, v, labels, 1, { source: `host.${type}`, ...over });
  const lines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('# HELP'));

  it("renames the host sources' samples as node_exporter, keeps static labels, leaves out what it has no metric for", () => {
    const w = writer();
    expect(w.naming).toBe('prometheus');
    w.write(
      batch([
        host('LoadAvg', undefined, 0.5, { time: 'short', env: 'prod' }),
        host('LoadAvg', undefined, 0.25, { time: 'long', env: 'prod' }),
        host('MemoryUsage', undefined, 100, { type: 'total' }, { unit: 'bytes' }),
        host('MemoryUsage', 'meminfo', 2048, { field: 'Active(anon)' }, { unit: 'bytes' }),
        host('MemoryUsage', 'meminfo', 3, { field: 'HugePages_Total' }),
        host('Cpu', 'seconds_total', 10.5, { cpu: '0', mode: 'user' }, { type: 'counter', unit: 'seconds' }),
        host('Cpu', 'seconds_total', 21, { cpu: 'all', mode: 'user' }, { type: 'counter', unit: 'seconds' }),
        host('Interface', 'receive_bytes_total', 7, { interface: 'eth0.100' }, { type: 'counter', unit: 'bytes' }),
        host('IO', 'io_time_seconds_total', 1.5, { disk: 'vda' }, { type: 'counter', unit: 'seconds' }),
        host('DiskUsage', 'avail_bytes', 9, { device: '/dev/vda', fstype: 'ext4', mountpoint: '/' }, { unit: 'bytes' }),
        host('DiskUsage', undefined, 9, { disk: '_', type: 'free' }, { unit: 'bytes' }),
        host('Host', 'la', 0.75, { period: '5m' }),
        host('Host', 'uname_info', 1, { sysname: 'Linux', nodename: 'vm' }),
        // Another source keeps the prometheus naming.
        point('web.Http.api.status_code', 200, {}, 1, { source: 'web.Http.api' }),
      ]),
    );
    const text = w.render();
    expect(lines(text)).toEqual([
      '# TYPE node_load1 gauge',
      'node_load1{env="prod"} 0.5',
      '# TYPE node_load15 gauge',
      'node_load15{env="prod"} 0.25',
      '# TYPE node_memory_Active_anon_bytes gauge',
      'node_memory_Active_anon_bytes 2048',
      '# TYPE node_memory_HugePages_Total gauge',
      'node_memory_HugePages_Total 3',
      '# TYPE node_cpu_seconds_total counter',
      'node_cpu_seconds_total{cpu="0",mode="user"} 10.5',
      '# TYPE node_network_receive_bytes_total counter',
      'node_network_receive_bytes_total{device="eth0.100"} 7',
      '# TYPE node_disk_io_time_seconds_total counter',
      'node_disk_io_time_seconds_total{device="vda"} 1.5',
      '# TYPE node_filesystem_avail_bytes gauge',
      'node_filesystem_avail_bytes{device="/dev/vda",fstype="ext4",mountpoint="/"} 9',
      '# TYPE node_load5 gauge',
      'node_load5 0.75',
      '# TYPE node_uname_info gauge',
      'node_uname_info{nodename="vm",sysname="Linux"} 1',
      '# TYPE web_http_api_status_code gauge',
      'web_http_api_status_code 200',
      '# TYPE pollect_prometheus_series gauge',
      'pollect_prometheus_series{writer=""} 11',
    ]);
    expect(text).toContain('# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.');
    // OpenMetrics: the counter's family without _total, and its unit.
    expect(w.render('openmetrics')).toContain('# TYPE node_cpu_seconds counter\n# UNIT node_cpu_seconds seconds\n');
  });

  it("serves the host sources' raw counters in the prometheus naming under their own names, in base units", () => {
    const w = new PrometheusWriter(configFor(PrometheusWriter, { port: 0, host: '127.0.0.1', naming: 'prometheus' }));
    w.write(
      batch([
        host('Cpu', 'seconds_total', 10.5, { cpu: '0', mode: 'user' }, { type: 'counter', unit: 'seconds' }),
        host('Interface', 'receive_bytes_total', 7, { interface: 'eth0' }, { type: 'counter', unit: 'bytes' }),
        host('Interface', 'receive_errs_total', 1, { interface: 'eth0' }, { type: 'counter' }),
        host('IO', 'io_time_seconds_total', 1.5, { disk: 'vda' }, { type: 'counter', unit: 'seconds' }),
        host('Process', 'cpu_seconds_total', 2, { pidx: '0' }, { type: 'counter', unit: 'seconds' }),
        host('MemoryUsage', 'meminfo', 2048, { field: 'MemTotal' }, { unit: 'bytes' }),
      ]),
    );
    expect(lines(w.render()).filter((l) => !l.startsWith('#'))).toEqual([
      'host_cpu_seconds_total{cpu="0",mode="user"} 10.5',
      'host_interface_receive_bytes_total{interface="eth0"} 7',
      'host_interface_receive_errs_total{interface="eth0"} 1',
      'host_io_io_time_seconds_total{disk="vda"} 1.5',
      'host_process_cpu_seconds_total{pidx="0"} 2',
      'host_memory_usage_meminfo_bytes{field="MemTotal"} 2048',
      'pollect_prometheus_series{writer=""} 6',
    ]);
  });

  it("names /proc/meminfo's fields as node_exporter", () => {
    expect(meminfoFamily('MemTotal', true)).toBe('node_memory_MemTotal_bytes');
    expect(meminfoFamily('Inactive(file)', true)).toBe('node_memory_Inactive_file_bytes');
    expect(meminfoFamily('HugePages_Free', false)).toBe('node_memory_HugePages_Free');
  });
});

describe.skipIf(!needs('prometheus', 'promtool', NODE_EXPORTER))('Prometheus writer: node naming beside node_exporter', () => {
  const tmp = tempDir('pollect-node-');
  const daemons: Daemon[] = [];
  let exporterPort = 0;
  let pollectPort = 0;
  let untimedPort = 0;

  beforeAll(async () => {
    exporterPort = await freePort();
    pollectPort = await freePort();
    untimedPort = await freePort();
    promPort = await freePort();
    daemons.push(
      spawnDaemon(NODE_EXPORTER, [
        `--web.listen-address=127.0.0.1:${exporterPort}`,
        '--collector.disable-defaults',
        ...COLLECTORS.map((c) => `--collector.${c}`),
        '--no-collector.netdev.netlink',
        ...UPSTREAM_FLAGS,
      ]),
    );
    const config = {
      tickTime: 1,
      writers: [
        { type: 'Prometheus', host: '127.0.0.1', port: pollectPort, naming: 'node', timestamps: true },
        { type: 'Prometheus', host: '127.0.0.1', port: untimedPort, naming: 'node' },
      ],
      executors: [
        {
          collection: 'host',
          sources: [
            { type: 'LoadAvg' },
            { type: 'MemoryUsage' },
            { type: 'DiskUsage' },
            { type: 'Cpu' },
            { type: 'Interface' },
            { type: 'IO' },
            { type: 'Host', metrics: ['system'] },
          ],
        },
      ],
    };
    writeFileSync(path.join(tmp.dir, 'pollect.json'), JSON.stringify(config));
    daemons.push(spawnDaemon(process.execPath, [BIN, '-c', path.join(tmp.dir, 'pollect.json')]));
    writeFileSync(
      path.join(tmp.dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: node',
        `    static_configs: [{ targets: ['127.0.0.1:${exporterPort}'] }]`,
        '  - job_name: pollect',
        `    static_configs: [{ targets: ['127.0.0.1:${pollectPort}'] }]`,
        ...MEASURED_JOBS.flatMap((j) => [
          `  - job_name: ${j.job}`,
          `    scrape_interval: ${Math.round(j.interval * 1000)}ms`,
          `    scrape_timeout: ${Math.round(Math.min(j.interval, 1) * 1000)}ms`,
          `    static_configs: [{ targets: ['127.0.0.1:${j.timestamps ? pollectPort : untimedPort}'] }]`,
        ]),
        '',
      ].join('\n'),
    );
    await Promise.all([waitForPort(exporterPort), waitForPort(pollectPort), waitForPort(untimedPort)]);
    daemons.push(
      spawnDaemon('prometheus', [
        `--config.file=${path.join(tmp.dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(tmp.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ]),
    );
    await waitForPort(promPort);
  }, 30_000);

  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    tmp.remove();
  });

  it('serves node_exporter families with its types and label sets, and promtool finds nothing node_exporter lacks', async () => {
    const [mine, theirs, untimed] = await Promise.all([scrape(pollectPort), scrape(exporterPort), scrape(untimedPort)]);
    const ours = families(mine);
    const ref = families(theirs);
    const served = [...ours.keys()].filter((f) => f.startsWith('node_'));
    expect(served.length).toBeGreaterThan(40);
    for (const f of served) {
      expect(ref.get(f)?.type, `${f} is a node_exporter family`).toBeDefined();
      expect(ours.get(f)!.type, `TYPE of ${f}`).toBe(ref.get(f)!.type);
      // The same devices, mount points, CPUs and modes: node_exporter's default filters.
      expect([...ours.get(f)!.series].sort(), `series of ${f}`).toEqual([...ref.get(f)!.series].sort());
    }
    for (const f of [
      'node_cpu_seconds_total',
      'node_load1',
      'node_memory_MemAvailable_bytes',
      'node_filesystem_avail_bytes',
      'node_network_receive_bytes_total',
    ]) {
      expect(served).toContain(f);
    }
    // promtool objects to node_exporter's own meminfo names (camelCase: node_memory_MemTotal_bytes),
    // which the dashboards query, and to nothing else of pollect's: every complaint about pollect
    // is that one, on a meminfo family, and one it makes about node_exporter too, on a name
    // node_exporter serves. (Whatever else a newer node_exporter may be told is no excuse.)
    const camelCase = /^node_memory_\w+ metric names should be written in 'snake_case' not 'camelCase'$/;
    const reference = lint(theirs);
    expect(reference.length, 'promtool finds node_exporter camelCase').toBeGreaterThan(0);
    for (const text of [mine, untimed]) {
      const findings = lint(text);
      // The meminfo families are served, so promtool has them to object to: the check below is not empty.
      expect(findings).toContain("node_memory_MemTotal_bytes metric names should be written in 'snake_case' not 'camelCase'");
      for (const line of findings) {
        expect(line).toMatch(camelCase);
        expect(ref.has(line.split(' ')[0]!), `${line}: a name node_exporter serves`).toBe(true);
        expect(reference, line).toContain(line);
      }
    }
  });

  it('answers the dashboard and alert expressions as node_exporter does, at every scrape interval', async () => {
    // Every job scraped for long enough to fill a rate window at each measured time.
    const span = MEASURED + 6;
    const jobs = [{ job: 'node', timestamps: false, interval: 1 }, CHECKED_JOB, ...MEASURED_JOBS];
    const scraped = async (j: (typeof jobs)[number]) =>
      // A stamped tick scraped twice is stored once.
      Number((await query(`count_over_time(node_load1{job="${j.job}"}[${span}s])`))[0]?.value[1] ?? 0) >=
      Math.floor(span / (j.timestamps ? Math.max(j.interval, 1) : j.interval)) - 1;
    const end = Date.now() + 45_000;
    while (Date.now() < end && !(await Promise.all(jobs.map(scraped))).every(Boolean)) await new Promise((r) => setTimeout(r, 250));
    expect(await Promise.all(jobs.map(scraped))).toEqual(jobs.map(() => true));
    // One evaluation time for both, a scrape interval back so both have scraped by then.
    const at = Date.now() / 1000 - 1;
    const problems: string[] = [];
    for (const c of CHECKS) {
      const [node, pollect] = await Promise.all([query(c.expr.replace(/JOB/g, 'job="node"'), at), query(c.expr.replace(/JOB/g, 'job="pollect"'), at)]);
      if (node.length === 0) problems.push(`${c.from}: node_exporter returns nothing for ${c.expr}`);
      const theirs = new Map(node.map((s) => [identity(s.metric), Number(s.value[1])]));
      const ours = new Map(pollect.map((s) => [identity(s.metric), Number(s.value[1])]));
      expect([...ours.keys()].sort(), `${c.from}: series of ${c.expr}`).toEqual([...theirs.keys()].sort());
      for (const [k, b] of theirs) {
        const a = ours.get(k)!;
        if (Math.abs(a - b) > tolerance(c, a, b)) problems.push(`${c.from} ${k}: pollect ${a}, node_exporter ${b} (tolerance ${tolerance(c, a, b)})`);
      }
    }
    expect(problems).toEqual([]);

    // The measurement: the rate expressions at MEASURED times a second apart, for pollect's
    // readings served with and without timestamps, each job against node_exporter. The cores
    // (every CPU second is in some mode) show the aliasing alone: their sum is the core count.
    const cores = CHECKS.find((c) => c.from.includes('the cores'))!;
    const rates = CHECKS.filter((c) => c !== cores && c.expr.includes('rate('));
    const range = (c: Check, job: string) => queryRange(c.expr.replace(/JOB/g, `job="${job}"`), at - MEASURED + 1, at);
    const phases = await scrapePhases();
    const report = [`rate() against node_exporter, ${MEASURED} evaluations over ${W} windows, tickTime 1 s:`];
    const coresError: Record<string, number> = {};
    for (const { job, timestamps, interval } of [CHECKED_JOB, ...MEASURED_JOBS]) {
      const node = await range(cores, 'node');
      const e = worst(cores, node, await range(cores, job));
      // Every evaluation compared: an answer missing at some time is no agreement.
      expect(e.compared, `${job}: evaluations of the cores' sum`).toBe(MEASURED);
      coresError[job] = e.relative;
      let other = { check: '', toTolerance: 0 };
      for (const c of rates) {
        const e = worst(c, await range(c, 'node'), await range(c, job));
        if (e.toTolerance >= other.toTolerance) other = { check: c.from, toTolerance: e.toTolerance };
      }
      const when =
        interval === 1
          ? `scraped ${phases[job] ?? '?'} ms after the tick`
          : interval < 1
            ? 'more often than the tick'
            : 'less often than the tick: some ticks are never scraped';
      report.push(
        `  ${job.padEnd(22)} ${timestamps ? 'timestamps' : 'without   '} every ${`${interval} s`.padEnd(5)} (${when}): cores off by up to ${(100 * coresError[job]).toFixed(1)} %; other rates up to ${other.toTolerance.toFixed(2)} of their tolerance (${other.check})`,
      );
    }
    console.log(report.join('\n'));
    // With timestamps the rates agree at every evaluation when every tick reaches Prometheus. (When
    // some never do, Prometheus' rate() extrapolates over the gap one leaves at a window's edge:
    // printed, not required.)
    expect(coresError.pollect).toBeLessThanOrEqual(cores.rel!);
    expect(coresError.pollect_fast).toBeLessThanOrEqual(cores.rel!);
  }, 90_000);
});

/** Rate expressions are measured at this many evaluation times, a second apart. */
const MEASURED = 15;

/** The job every check runs on: pollect with timestamps, scraped every second (s) as node_exporter. */
const CHECKED_JOB = { job: 'pollect', timestamps: true, interval: 1 };

/**
 * The jobs measured beside it: the same readings without timestamps, and both scraped at an
 * interval that is not the tickTime (so the scrapes' phase sweeps through the tick), shorter and longer.
 */
const MEASURED_JOBS = [
  { job: 'pollect_untimed', timestamps: false, interval: 1 },
  { job: 'pollect_fast', timestamps: true, interval: 0.9 },
  { job: 'pollect_untimed_fast', timestamps: false, interval: 0.9 },
  { job: 'pollect_slow', timestamps: true, interval: 1.1 },
  { job: 'pollect_untimed_slow', timestamps: false, interval: 1.1 },
];

/** How many ms after the whole second (pollect's tick) Prometheus scrapes each job. */
async function scrapePhases(): Promise<Record<string, number>> {
  const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/targets`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { data: { activeTargets: { labels: { job: string }; lastScrape: string }[] } };
  return Object.fromEntries(body.data.activeTargets.map((t) => [t.labels.job, Date.parse(t.lastScrape) % 1000]));
}

/** How far pollect's value may be from node_exporter's in a check. */
function tolerance(c: Check, a: number, b: number): number {
  return Math.max(c.abs, (c.rel ?? 0) * Math.max(Math.abs(a), Math.abs(b)));
}

type Matrix = { metric: Record<string, string>; values: [number, string][] }[];

async function queryRange(q: string, start: number, end: number): Promise<Matrix> {
  const url = `http://127.0.0.1:${promPort}/api/v1/query_range?query=${encodeURIComponent(q)}&start=${start}&end=${end}&step=1`;
  const body = (await (await fetch(url, { signal: AbortSignal.timeout(5000) })).json()) as { status: string; data: { result: Matrix } };
  if (body.status !== 'success') throw new Error(`query_range ${q}: ${JSON.stringify(body)}`);
  return body.data.result;
}

/** The largest difference between two jobs' answers, over every series and time both have, and how many those are. */
function worst(c: Check, theirs: Matrix, ours: Matrix): { toTolerance: number; relative: number; compared: number } {
  const byKey = new Map(ours.map((s) => [identity(s.metric), new Map(s.values.map(([t, v]) => [t, Number(v)]))]));
  let toTolerance = 0;
  let relative = 0;
  let compared = 0;
  for (const s of theirs) {
    const mine = byKey.get(identity(s.metric));
    for (const [t, v] of s.values) {
      const a = mine?.get(t);
      if (a === undefined) continue;
      compared++;
      const b = Number(v);
      const d = Math.abs(a - b);
      const tol = tolerance(c, a, b);
      toTolerance = Math.max(toTolerance, tol > 0 ? d / tol : d > 0 ? Infinity : 0);
      if (d > 0) relative = Math.max(relative, d / Math.max(Math.abs(a), Math.abs(b)));
    }
  }
  return { toTolerance, relative, compared };
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
  return res.text();
}

/** Family -> TYPE and the label sets of its series, from a text exposition. */
function families(text: string): Map<string, { type: string; series: Set<string> }> {
  const out = new Map<string, { type: string; series: Set<string> }>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) out.set(t[1]!, { type: t[2]!, series: new Set() });
    else if (line && !line.startsWith('#')) {
      const m = /^([^{ ]+)(\{[^}]*\})?/.exec(line)!;
      out.get(m[1]!)?.series.add(m[2] ?? '');
    }
  }
  return out;
}

/** promtool's complaints about an exposition, a line each (`<name> <problem>`). */
function lint(text: string): string[] {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  // 0: nothing to say, 3: lint findings; 1 would be an exposition it cannot parse.
  expect([0, 3], r.stderr).toContain(r.status);
  return r.stderr.split('\n').filter(Boolean);
}
