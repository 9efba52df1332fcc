import { describe, it, expect } from 'vitest';
import { parseOutput } from '../../../src/sources/exec/formats.js';
import { valueOf } from '../../helpers/probe.js';

// Real exposition text, produced by prom-client (the library Node exporters use) in the test.
async function realExposition(): Promise<{
  text: string;
  json: { name: string; values: { value: number; labels: Record<string, string | number>; metricName?: string }[] }[];
}> {
  const prom = await import('prom-client');
  const reg = new prom.Registry();
  const c = new prom.Counter({
    name: 'jobs_processed_total',
    help: 'Jobs processed, by "queue"\nand result\\status',
    labelNames: ['queue', 'result'],
    registers: [reg],
  });
  c.inc({ queue: 'mail', result: 'ok' }, 41);
  c.inc({ queue: 'say "hi"\\there\nnext', result: 'failed' }, 2);
  const g = new prom.Gauge({ name: 'queue_depth', help: 'Items waiting', registers: [reg] });
  g.set(-3.25);
  const h = new prom.Histogram({ name: 'request_seconds', help: 'Request time', buckets: [0.1, 0.5, 1], labelNames: ['route'], registers: [reg] });
  for (const v of [0.05, 0.2, 0.7, 3]) h.observe({ route: '/api' }, v);
  const s = new prom.Summary({ name: 'payload_bytes', help: 'Payload size', percentiles: [0.5, 0.9], registers: [reg] });
  for (const v of [100, 200, 300, 400]) s.observe(v);
  return { text: await reg.metrics(), json: (await reg.getMetricsAsJSON()) as never };
}

describe('prometheus text format', () => {
  it('reads every series of real exposition output, with types and help', async () => {
    const { text, json } = await realExposition();
    const s = parseOutput('prometheus', text);
    // Every value the registry holds comes back under its name and labels.
    let n = 0;
    for (const fam of json) {
      for (const v of fam.values) {
        const labels = Object.fromEntries(Object.entries(v.labels).map(([k, x]) => [k, String(x)]));
        const name = v.metricName ?? fam.name;
        const got = s.filter(
          (x) =>
            x.name === name &&
            JSON.stringify(x.labels) === JSON.stringify(Object.fromEntries(Object.keys(x.labels ?? {}).map((k) => [k, labels[k]]))) &&
            Object.keys(x.labels ?? {}).length === Object.keys(labels).length,
        );
        expect(got, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
        expect(got[0]!.value).toBe(v.value);
        n++;
      }
    }
    expect(s).toHaveLength(n);
    expect(valueOf(s, 'jobs_processed_total', { queue: 'say "hi"\\there\nnext', result: 'failed' })).toBe(2);
    const jobs = s.find((x) => x.name === 'jobs_processed_total')!;
    expect(jobs.type).toBe('counter');
    expect(jobs.help).toBe('Jobs processed, by "queue"\nand result\\status');
    expect(s.find((x) => x.name === 'queue_depth')).toMatchObject({ type: 'gauge', value: -3.25, help: 'Items waiting' });
    expect(valueOf(s, 'request_seconds_bucket', { le: '+Inf', route: '/api' })).toBe(4);
    expect(valueOf(s, 'request_seconds_bucket', { le: '0.5', route: '/api' })).toBe(2);
    expect(s.find((x) => x.name === 'request_seconds_bucket')?.type).toBe('counter');
    expect(valueOf(s, 'request_seconds_sum', { route: '/api' })).toBeCloseTo(3.95);
    expect(valueOf(s, 'payload_bytes', { quantile: '0.5' })).toBeGreaterThan(0);
    expect(s.find((x) => x.name === 'payload_bytes')?.type).toBe('gauge');
    expect(s.find((x) => x.name === 'payload_bytes_count')?.type).toBe('counter');
    // Every series of a histogram or summary says so, for writers that keep their shape.
    for (const name of ['request_seconds_bucket', 'request_seconds_sum', 'request_seconds_count']) {
      expect(
        s.filter((x) => x.name === name).every((x) => x.partOf === 'histogram'),
        name,
      ).toBe(true);
    }
    for (const name of ['payload_bytes', 'payload_bytes_sum', 'payload_bytes_count']) {
      expect(
        s.filter((x) => x.name === name).every((x) => x.partOf === 'summary'),
        name,
      ).toBe(true);
    }
    expect(s.filter((x) => x.partOf !== undefined)).toHaveLength(s.filter((x) => /^(request_seconds|payload_bytes)/.test(x.name!)).length);
    expect(jobs.partOf).toBeUndefined();
  });

  it('handles a node_exporter textfile with timestamps, untyped series, special values and exemplars', () => {
    const text = [
      '# HELP node_textfile_backup_last_success_timestamp_seconds Last successful backup.',
      '# TYPE node_textfile_backup_last_success_timestamp_seconds gauge',
      'node_textfile_backup_last_success_timestamp_seconds{job="nightly"} 1.7005e+09 1700500000000',
      'raid_degraded{md="md0"} 0',
      'temperature_celsius{sensor="a",} +Inf',
      'free_ratio NaN',
      'floor_level -Inf',
      '# TYPE http_requests counter',
      'http_requests_total{code="200"} 1027 # {trace_id="abc"} 1 1700000000',
      '# some free comment',
      '# EOF',
    ].join('\n');
    const s = parseOutput('prometheus', text);
    expect(valueOf(s, 'node_textfile_backup_last_success_timestamp_seconds', { job: 'nightly' })).toBe(1.7005e9);
    expect(valueOf(s, 'raid_degraded', { md: 'md0' })).toBe(0);
    expect(valueOf(s, 'temperature_celsius', { sensor: 'a' })).toBe(Infinity);
    expect(valueOf(s, 'floor_level')).toBe(-Infinity);
    expect(s.some((x) => x.name === 'free_ratio')).toBe(false);
    expect(s.find((x) => x.name === 'http_requests_total')).toMatchObject({ value: 1027, type: 'counter' });
    expect(s).toHaveLength(5);
  });

  it('rejects malformed lines naming the line', () => {
    const cases: [string, RegExp][] = [
      ['9metric 1', /must start with a metric name/],
      ['metric{a="1" 1', /expected "," or "}" after label "a"/],
      ['metric{a=1} 1', /value of label "a" is not quoted/],
      ['metric{a="1} 1', /not closed/],
      ['metric{a="1",a="2"} 1', /label "a" given twice/],
      ['metric', /no value after "metric"/],
      ['metric one', /bad value "one"/],
      ['metric 1 2 3', /unexpected text after the value/],
      ['metric 1 soon', /bad timestamp "soon"/],
      ['# TYPE metric histogramm', /unknown metric type "histogramm"/],
      ['<html><body>502 Bad Gateway</body></html>', /must start with a metric name/],
    ];
    for (const [line, reason] of cases) {
      expect(() => parseOutput('prometheus', `ok 1\n${line}\n`), line).toThrow(reason);
      expect(() => parseOutput('prometheus', `ok 1\n${line}\n`), line).toThrow(/^line 2: /);
    }
  });
});
