// collectd's notification format, as its exec plugin writes it to a NotificationExec program's
// stdin (collectd-exec(5), "NOTIFICATION DATA FORMAT"; exec.c): header lines, an empty line, the
// message. Checked byte for byte against collectd 5 itself (test/writers/notification-exec.test.ts).
import type { Notification } from '../../sdk/index.js';

export function notificationText(n: Notification): string {
  let out = `Severity: ${n.severity.toUpperCase()}\nTime: ${(n.time / 1000).toFixed(3)}\n`;
  const fields: [string, string | undefined][] = [
    ['Host', n.host],
    ['Plugin', n.plugin],
    ['PluginInstance', n.pluginInstance],
    ['Type', n.type],
    ['TypeInstance', n.typeInstance],
  ];
  // collectd leaves out an empty field.
  for (const [k, v] of fields) if (v) out += `${k}: ${headerValue(v)}\n`;
  for (const [k, v] of Object.entries(n.meta ?? {})) out += `${headerValue(k)}: ${metaValue(v)}\n`;
  return `${out}\n${n.message}\n`;
}

/** A line break in a header value would end the header early (or inject a field): it becomes a space. */
function headerValue(v: string): string {
  return v.replace(/[\r\n]+/g, ' ');
}

/**
 * As collectd prints meta data: strings as they are, booleans as true/false, and a number as a
 * double, with %e (`CurrentValue: 9.750000e+01`, `WarningMin: nan`), as its threshold plugin's
 * values come out. (collectd prints an integer meta, which only a Python plugin sends, in decimal;
 * a JavaScript number does not say whether it was one.)
 */
function metaValue(v: string | number | boolean): string {
  if (typeof v === 'string') return headerValue(v);
  if (typeof v === 'boolean') return String(v);
  return cExponent(v);
}

/** printf's %e: six decimals and an exponent of at least two digits (1.500000e+00). */
export function cExponent(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  const [mantissa, exp] = v.toExponential(6).split('e') as [string, string];
  const sign = exp.startsWith('-') ? '-' : '+';
  return `${mantissa}e${sign}${exp.replace(/^[-+]/, '').padStart(2, '0')}`;
}
