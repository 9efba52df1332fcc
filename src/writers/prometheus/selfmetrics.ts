// pollect's own metrics on the same endpoint: how each source fared, how each writer is doing, and
// the process metrics of prom-client's collectDefaultMetrics (on a private registry).
import type { Registry } from 'prom-client';
import type { Labels } from '../../sources/source.js';
import type { SourceStatus, WriterStats } from '../writer.js';
import { familyHeader, formatNumber, seriesPrefix, type FamilyType, type Format } from './render.js';

export interface SelfSample {
  /** Defaults to the family name; histograms name their _bucket/_sum/_count here. */
  name?: string;
  labels: Labels;
  value: number;
}

export interface SelfFamily {
  name: string;
  type: FamilyType;
  help: string;
  samples: SelfSample[];
}

/** Names of the self-metrics; a user family with one of these names is not served. */
export const SELF_FAMILY_NAMES = [
  'pollect_source_duration_seconds',
  'pollect_source_success',
  'pollect_source_errors_total',
  'pollect_ticks_skipped_total',
  'pollect_source_consecutive_failures',
  'pollect_writer_queue_length',
  'pollect_writer_written_total',
  'pollect_writer_dropped_total',
  'pollect_writer_errors_total',
  'pollect_prometheus_series',
] as const;

export function pollectFamilies(sources: readonly SourceStatus[], writers: readonly WriterStats[], series: number, writerId: string): SelfFamily[] {
  const src = (f: (s: SourceStatus) => number): SelfSample[] =>
    sources.map((s) => ({ labels: { collection: s.collection, source: s.id, type: s.type }, value: f(s) }));
  const wr = (f: (w: WriterStats) => number): SelfSample[] => writers.map((w) => ({ labels: { writer: w.writer }, value: f(w) }));
  return [
    { name: 'pollect_source_duration_seconds', type: 'gauge', help: 'Duration of the last probe of the source.', samples: src((s) => s.durationSeconds) },
    { name: 'pollect_source_success', type: 'gauge', help: '1 when the last probe of the source succeeded, else 0.', samples: src((s) => (s.success ? 1 : 0)) },
    { name: 'pollect_source_errors_total', type: 'counter', help: 'Failed probes of the source.', samples: src((s) => s.errorsTotal) },
    { name: 'pollect_ticks_skipped_total', type: 'counter', help: 'Ticks the source was not probed because its previous probe still ran.', samples: src((s) => s.skippedTotal) },
    { name: 'pollect_source_consecutive_failures', type: 'gauge', help: 'Failed probes of the source in a row.', samples: src((s) => s.consecutiveFailures) },
    { name: 'pollect_writer_queue_length', type: 'gauge', help: 'Points waiting in the writer.', samples: wr((w) => w.queueLength) },
    { name: 'pollect_writer_written_total', type: 'counter', help: 'Points the writer wrote.', samples: wr((w) => w.written) },
    { name: 'pollect_writer_dropped_total', type: 'counter', help: 'Points the writer dropped.', samples: wr((w) => w.dropped) },
    { name: 'pollect_writer_errors_total', type: 'counter', help: 'Errors of the writer.', samples: wr((w) => w.errors) },
    { name: 'pollect_prometheus_series', type: 'gauge', help: 'Series this Prometheus endpoint serves.', samples: [{ labels: { writer: writerId }, value: series }] },
  ];
}

// prom-client's gauges `nodejs_active_*_total` trip promlint ("non-counter ... _total") and only sum
// their `nodejs_active_*` siblings by type; prometheus naming leaves them out.
const LINT_UNCLEAN = /^nodejs_active_\w+_total$/;

/** prom-client's default metrics as families, read without prom-client's renderer. */
export async function processFamilies(registry: Registry, strict: boolean): Promise<SelfFamily[]> {
  const out: SelfFamily[] = [];
  for (const m of await registry.getMetricsAsJSON()) {
    if (strict && LINT_UNCLEAN.test(m.name)) continue;
    // At run time prom-client's type is a string ('counter'), whatever its typings say.
    const t = String(m.type);
    const type = (['gauge', 'counter', 'histogram', 'summary'].includes(t) ? t : 'untyped') as FamilyType;
    const samples: SelfSample[] = [];
    for (const v of m.values) {
      const labels: Labels = {};
      for (const [k, lv] of Object.entries(v.labels ?? {})) labels[k] = typeof lv === 'number' ? formatNumber(lv) : String(lv);
      const name = (v as { metricName?: string }).metricName;
      samples.push({ name, labels, value: v.value });
    }
    out.push({ name: m.name, type, help: m.help, samples });
  }
  return out;
}

export function renderSelf(fam: SelfFamily, format: Format): string {
  let s = familyHeader(fam.name, fam.type, fam.help, format);
  // Label names must agree within a family; histograms differ only by `le` on the buckets.
  const byName = new Map<string, string[]>();
  for (const x of fam.samples) {
    const n = x.name ?? fam.name;
    let names = byName.get(n);
    if (!names) byName.set(n, (names = []));
    for (const l in x.labels) if (!names.includes(l)) names.push(l);
  }
  for (const names of byName.values()) names.sort();
  for (const x of fam.samples) {
    const n = x.name ?? fam.name;
    s += seriesPrefix(n, byName.get(n)!, x.labels) + formatNumber(x.value) + '\n';
  }
  return s;
}
