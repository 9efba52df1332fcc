// Expands SnmpGet's metric definitions (oid or oids, range, oidLabels) into the series to probe,
// as the Python pollect does: a range repeats the OIDs with `${label}` replaced by each number.
import { ParamError, type JsonSchema, type ParamsOf } from '../../sdk/index.js';

export const metricSchema = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, description: 'Value name of the metric' },
    oid: { type: 'string', minLength: 1, description: 'Numeric OID; ${<range.label>} is replaced by the range index' },
    oids: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, description: "Several OIDs, summed (pollect's older form)" },
    mode: {
      type: 'string',
      description: 'rate: change per second of a counter (Counter32/Counter64 wraps handled); anything else (raw) or none: the value as read',
    },
    unit: {
      type: 'string',
      minLength: 1,
      description: 'Unit of the value as the agent counts it (bytes for ifInOctets, seconds, ...); with mode rate the unit is that per second',
    },
    range: {
      type: 'object',
      description: 'Repeat the metric for each integer from..to, ${<label>} in its OIDs replaced by the number, which also becomes the label <label>',
      required: ['from', 'to', 'label'],
      additionalProperties: false,
      properties: {
        from: { type: 'integer', description: 'First number' },
        to: { type: 'integer', description: 'Last number (inclusive)' },
        label: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'Label name, and the placeholder ${<label>}' },
      },
    },
    oidLabels: {
      type: 'object',
      additionalProperties: { type: 'string', minLength: 1 },
      description: 'Label name -> OID whose value is the label (may contain ${<range.label>})',
    },
  },
} as const satisfies JsonSchema;

export type SnmpMetricConfig = ParamsOf<typeof metricSchema>;

export interface Series {
  metric: string;
  rate: boolean;
  /** The unit of the samples: the configured one, per second for a rate. */
  unit?: string;
  /** The configured unit: that of the counter behind a rate. */
  counterUnit?: string;
  /** Value OIDs (summed). */
  oids: string[];
  /** Static labels (the range label). */
  labels: Record<string, string>;
  /** Label name -> OID whose value is the label. */
  labelOids: [string, string][];
}

/** Largest number of series one metric may expand to: a typo in `to` must not flood an agent. */
export const MAX_RANGE = 10_000;

/** `iso.3.6.1.2.1.1.3.0`, `.1.3.6...` or `1.3.6...` -> `1.3.6.1.2.1.1.3.0`; a ParamError at `param` for anything else. */
export function normalizeOid(oid: string, param: string): string {
  let s = oid.trim();
  if (s.startsWith('.')) s = s.slice(1);
  if (s.startsWith('iso.')) s = '1.' + s.slice(4);
  if (!/^\d+(\.\d+)+$/.test(s)) {
    throw new ParamError(param, `"${oid}" is not a numeric OID (MIB names are not resolved; write e.g. 1.3.6.1.2.1.1.3.0)`);
  }
  return s;
}

/** The series the metrics expand to; a ParamError names the metric (`metrics[2].range`) that cannot work. */
export function expandMetrics(metrics: readonly SnmpMetricConfig[]): Series[] {
  const out: Series[] = [];
  metrics.forEach((m, i) => {
    const where = `metrics[${i}]`;
    const templates = [...(m.oid !== undefined ? [m.oid] : []), ...(m.oids ?? [])];
    if (templates.length === 0) throw new ParamError(where, `(${m.name}) needs "oid" or "oids"`);
    const labelEntries = Object.entries(m.oidLabels ?? {});
    const rate = m.mode === 'rate';
    const unit = rate ? `${m.unit ?? ''}/s` : m.unit;
    if (!m.range) {
      out.push({
        metric: m.name,
        rate,
        unit,
        counterUnit: m.unit,
        oids: templates.map((t) => normalizeOid(t, `${where}.${m.oid !== undefined ? 'oid' : 'oids'}`)),
        labels: {},
        labelOids: labelEntries.map(([k, t]) => [k, normalizeOid(t, `${where}.oidLabels.${k}`)]),
      });
      return;
    }
    const { from, to, label } = m.range;
    if (!Number.isInteger(from) || !Number.isInteger(to) || to < from) {
      throw new ParamError(`${where}.range`, `needs integers from <= to, got ${from}..${to}`);
    }
    if (to - from + 1 > MAX_RANGE) throw new ParamError(`${where}.range`, `${from}..${to} is larger than ${MAX_RANGE}`);
    const placeholder = '${' + label + '}';
    if (!templates.some((t) => t.includes(placeholder))) {
      throw new ParamError(`${where}.range`, `label "${label}" but no oid contains ${placeholder}`);
    }
    for (let x = from; x <= to; x++) {
      const fill = (t: string): string => t.split(placeholder).join(String(x));
      out.push({
        metric: m.name,
        rate,
        unit,
        counterUnit: m.unit,
        oids: templates.map((t) => normalizeOid(fill(t), `${where}.${m.oid !== undefined ? 'oid' : 'oids'}`)),
        labels: { [label]: String(x) },
        labelOids: labelEntries.map(([k, t]) => [k, normalizeOid(fill(t), `${where}.oidLabels.${k}`)]),
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
