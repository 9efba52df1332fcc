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

/**
 * What a notification is about, as collectd writes an identifier: `host/plugin[-plugin_instance]`,
 * then `/type[-type_instance]` when it names a type.
 */
export function notificationSubject(n: { host: string; plugin: string; pluginInstance?: string; type?: string; typeInstance?: string }): string {
  const plugin = n.pluginInstance ? `${n.plugin}-${n.pluginInstance}` : n.plugin;
  if (!n.type) return `${n.host}/${plugin}`;
  return `${n.host}/${plugin}/${n.typeInstance ? `${n.type}-${n.typeInstance}` : n.type}`;
}
