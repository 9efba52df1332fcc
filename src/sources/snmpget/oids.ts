// Expands SnmpGet's metric definitions (oid or oids, range, oidLabels) into the series to probe,
// as the Python pollect does: a range repeats the OIDs with `${label}` replaced by each number.
import { SourceError } from '../../sdk/index.js';

export interface SnmpMetricConfig {
  name: string;
  /** One OID; `${<range.label>}` is replaced by the range index. */
  oid?: string;
  /** Several OIDs whose values (or rates) are summed, as pollect's older `oids`. */
  oids?: string[];
  /** `rate`: change per second (Counter32/Counter64 wraps handled). Default: the value itself. */
  mode?: 'rate' | 'raw';
  range?: { from: number; to: number; label: string };
  /** Label name -> OID whose value becomes the label (may contain `${<range.label>}`). */
  oidLabels?: Record<string, string>;
}

export interface Series {
  metric: string;
  rate: boolean;
  /** Value OIDs (summed). */
  oids: string[];
  /** Static labels (the range label). */
  labels: Record<string, string>;
  /** Label name -> OID whose value is the label. */
  labelOids: [string, string][];
}

/** Largest number of series one metric may expand to: a typo in `to` must not flood an agent. */
export const MAX_RANGE = 10_000;

/** `iso.3.6.1.2.1.1.3.0`, `.1.3.6...` or `1.3.6...` -> `1.3.6.1.2.1.1.3.0`; throws for anything else. */
export function normalizeOid(oid: string, where: string): string {
  let s = oid.trim();
  if (s.startsWith('.')) s = s.slice(1);
  if (s.startsWith('iso.')) s = '1.' + s.slice(4);
  if (!/^\d+(\.\d+)+$/.test(s)) {
    throw new SourceError(`${where}: "${oid}" is not a numeric OID (MIB names are not resolved; write e.g. 1.3.6.1.2.1.1.3.0)`);
  }
  return s;
}

export function expandMetrics(metrics: readonly SnmpMetricConfig[]): Series[] {
  const out: Series[] = [];
  metrics.forEach((m, i) => {
    const where = `metrics[${i}] (${m.name})`;
    const templates = [...(m.oid !== undefined ? [m.oid] : []), ...(m.oids ?? [])];
    if (templates.length === 0) throw new SourceError(`${where}: needs "oid" or "oids"`);
    const labelEntries = Object.entries(m.oidLabels ?? {});
    const rate = m.mode === 'rate';
    if (!m.range) {
      out.push({
        metric: m.name,
        rate,
        oids: templates.map((t) => normalizeOid(t, where)),
        labels: {},
        labelOids: labelEntries.map(([k, t]) => [k, normalizeOid(t, `${where} oidLabels.${k}`)]),
      });
      return;
    }
    const { from, to, label } = m.range;
    if (!Number.isInteger(from) || !Number.isInteger(to) || to < from) {
      throw new SourceError(`${where}: range needs integers from <= to, got ${from}..${to}`);
    }
    if (to - from + 1 > MAX_RANGE) throw new SourceError(`${where}: range ${from}..${to} is larger than ${MAX_RANGE}`);
    const placeholder = '${' + label + '}';
    if (!templates.some((t) => t.includes(placeholder))) {
      throw new SourceError(`${where}: range label "${label}" but no oid contains ${placeholder}`);
    }
    for (let x = from; x <= to; x++) {
      const fill = (t: string): string => t.split(placeholder).join(String(x));
      out.push({
        metric: m.name,
        rate,
        oids: templates.map((t) => normalizeOid(fill(t), where)),
        labels: { [label]: String(x) },
        labelOids: labelEntries.map(([k, t]) => [k, normalizeOid(fill(t), `${where} oidLabels.${k}`)]),
      });
    }
  });
  return out;
}

/** Every distinct OID the series need, value OIDs first, in a stable order. */
export function allOids(series: readonly Series[]): string[] {
  const seen = new Set<string>();
  for (const s of series) for (const o of s.oids) seen.add(o);
  for (const s of series) for (const [, o] of s.labelOids) seen.add(o);
  return [...seen];
}
