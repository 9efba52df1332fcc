// collectd's identifier host/plugin[-plugin_instance]/type[-type_instance] as pollect names it, the
// same way as Exec's collectd format: the sample is <plugin>.<type>, plus .<data source> for a type
// with several values (if_octets: .rx, .tx); host, plugin_instance and type_instance are labels
// (the instances only when not empty). DERIVE and COUNTER values are counters, GAUGE and ABSOLUTE gauges.
import type { Sample } from '../../sdk/index.js';

export interface ValuesMessage {
  t: 'values';
  host: string;
  plugin: string;
  plugin_instance: string;
  type: string;
  type_instance: string;
  time: number;
  interval: number;
  /** null: NaN or an infinity, collectd's U. */
  values: (number | null)[];
  dsnames: string[];
  dstypes: ('gauge' | 'derive' | 'counter' | 'absolute')[];
}

/** [series key, sample] for each value that is a number. */
export function toSamples(m: ValuesMessage): [string, Sample][] {
  const labels: Record<string, string> = { host: m.host };
  if (m.plugin_instance) labels['plugin_instance'] = m.plugin_instance;
  if (m.type_instance) labels['type_instance'] = m.type_instance;
  const base = `${m.plugin}.${m.type}`;
  const id = `${m.host}/${m.plugin}${m.plugin_instance ? `-${m.plugin_instance}` : ''}/${m.type}${m.type_instance ? `-${m.type_instance}` : ''}`;
  const out: [string, Sample][] = [];
  m.values.forEach((value, i) => {
    if (value === null) return;
    const ds = m.dsnames[i]!;
    const kind = m.dstypes[i];
    const name = m.values.length === 1 ? base : `${base}.${ds}`;
    out.push([`${id}:${ds}`, { name, value, labels, type: kind === 'derive' || kind === 'counter' ? 'counter' : 'gauge' }]);
  });
  return out;
}
