// Numbers and label values as the Prometheus text format spells them; DryRun's lines and the
// Prometheus exposition share these, so the two never disagree.

/** NaN, +Inf and -Inf spelled out; every other number as JavaScript prints it. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

const NEEDS_ESCAPE = /[\\"\n]/;

/** A label value with `\`, `"` and newline escaped, for inside `label="..."`. */
export function escapeLabelValue(v: string): string {
  if (!NEEDS_ESCAPE.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
