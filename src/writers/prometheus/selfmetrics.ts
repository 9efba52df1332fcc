// pollect's own metrics on the same endpoint: how each source fared, how each writer is doing, and
// the process metrics of prom-client's collectDefaultMetrics (on a private registry).
import type { Labels } from '../../sdk/index.js';
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

/** The one self-metric that belongs to this writer: the series it serves. */
export function seriesFamily(series: number, writerId: string): SelfFamily {
  return { name: 'pollect_prometheus_series', type: 'gauge', help: 'Series this Prometheus endpoint serves.', samples: [{ labels: { writer: writerId }, value: series }] };
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
