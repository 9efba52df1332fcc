// collectd's exec plugin text protocol (collectd-exec(5), collectd-unixsock(5)):
//   PUTVAL <host>/<plugin>[-<pinst>]/<type>[-<tinst>] [interval=<s>] <time|N>:<v>[:<v>...] ...
//   PUTNOTIF [severity=...] [time=...] [host=...] ... message=<rest of the line>
// Lines without a command are PUTVAL (the old form collectd still accepts); '#' lines are comments.
// A sample is named <plugin>.<type>, plus .<data source> for types with several values; host and
// the instances become labels.
import { readFileSync } from 'node:fs';
import type { Sample } from '../../sdk/index.js';
import { ParseError, parseNumber, type DataSource, type LineParser, type Notification, type ParserOptions } from './parser.js';

/** Data sets of the common collectd types with more than one value, or that count (DERIVE). */
const BUILTIN_TYPES = `
load shortterm:GAUGE midterm:GAUGE longterm:GAUGE
df used:GAUGE free:GAUGE
disk_octets read:DERIVE write:DERIVE
disk_ops read:DERIVE write:DERIVE
disk_time read:DERIVE write:DERIVE
disk_merged read:DERIVE write:DERIVE
disk_io_time io_time:DERIVE weighted_io_time:DERIVE
disk_latency read:GAUGE write:GAUGE
if_octets rx:DERIVE tx:DERIVE
if_packets rx:DERIVE tx:DERIVE
if_errors rx:DERIVE tx:DERIVE
if_dropped rx:DERIVE tx:DERIVE
io_octets rx:DERIVE tx:DERIVE
io_packets rx:DERIVE tx:DERIVE
node_octets rx:DERIVE tx:DERIVE
serial_octets rx:DERIVE tx:DERIVE
memcached_octets rx:DERIVE tx:DERIVE
mysql_octets rx:DERIVE tx:DERIVE
dns_octets queries:DERIVE responses:DERIVE
compression uncompressed:DERIVE compressed:DERIVE
ps_count processes:GAUGE threads:GAUGE
ps_cputime user:DERIVE syst:DERIVE
ps_disk_octets read:DERIVE write:DERIVE
ps_disk_ops read:DERIVE write:DERIVE
ps_pagefaults minflt:DERIVE majflt:DERIVE
vmpage_faults minflt:DERIVE majflt:DERIVE
vmpage_io in:DERIVE out:DERIVE
voltage_threshold value:GAUGE threshold:GAUGE
smart_attribute current:GAUGE worst:GAUGE threshold:GAUGE pretty:GAUGE
cpu value:DERIVE
derive value:DERIVE
counter value:COUNTER
absolute value:ABSOLUTE
contextswitch value:DERIVE
fork_rate value:DERIVE
irq value:DERIVE
connections value:DERIVE
http_requests value:DERIVE
total_requests value:DERIVE
total_bytes value:DERIVE
operations value:DERIVE
packets value:DERIVE
`;

let builtin: Map<string, DataSource[]> | undefined;
export function builtinTypes(): Map<string, DataSource[]> {
  builtin ??= parseTypesDb(BUILTIN_TYPES);
  return builtin;
}

/** Parses types.db text: `<type> <ds>:<KIND>:<min>:<max>[, <ds>:...]`. */
export function parseTypesDb(text: string): Map<string, DataSource[]> {
  const out = new Map<string, DataSource[]>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`types.db line ${i + 1}: no data sources: "${line}"`);
    const sources: DataSource[] = [];
    for (const part of m[2]!.split(/[\s,]+/).filter(Boolean)) {
      const [name, kind] = part.split(':');
      if (!name || !kind || !['GAUGE', 'DERIVE', 'COUNTER', 'ABSOLUTE'].includes(kind.toUpperCase())) {
        throw new Error(`types.db line ${i + 1}: bad data source "${part}"`);
      }
      sources.push({ name, kind: kind.toUpperCase() as DataSource['kind'] });
    }
    out.set(m[1]!, sources);
  });
  return out;
}

/** The built-in data sets overlaid with a types.db file's. */
export function loadTypesDb(file: string): Map<string, DataSource[]> {
  const own = parseTypesDb(readFileSync(file, 'utf8'));
  return new Map([...builtinTypes(), ...own]);
}

/** Splits a line into fields: space separated, "double quoted" with backslash escapes, key="quoted". */
export function splitFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= line.length) break;
    let field = '';
    while (i < line.length && line[i] !== ' ' && line[i] !== '\t') {
      if (line[i] === '"') {
        i++;
        let closed = false;
        while (i < line.length) {
          const c = line[i]!;
          if (c === '\\' && i + 1 < line.length) {
            field += line[i + 1];
            i += 2;
          } else if (c === '"') {
            i++;
            closed = true;
            break;
          } else {
            field += c;
            i++;
          }
        }
        if (!closed) throw new ParseError('unterminated quoted string');
      } else {
        field += line[i];
        i++;
      }
    }
    out.push(field);
  }
  return out;
}

export interface Identifier {
  host: string;
  plugin: string;
  pluginInstance?: string;
  type: string;
  typeInstance?: string;
}

export function parseIdentifier(s: string): Identifier {
  const parts = s.split('/');
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    throw new ParseError(`identifier "${s}" is not host/plugin[-instance]/type[-instance]`);
  }
  const [host, pluginPart, typePart] = parts as [string, string, string];
  const [plugin, pluginInstance] = splitInstance(pluginPart);
  const [type, typeInstance] = splitInstance(typePart);
  if (!plugin || !type) throw new ParseError(`identifier "${s}" has an empty plugin or type`);
  return { host, plugin, pluginInstance, type, typeInstance };
}

function splitInstance(s: string): [string, string | undefined] {
  const dash = s.indexOf('-');
  return dash < 0 ? [s, undefined] : [s.slice(0, dash), s.slice(dash + 1) || undefined];
}

export class CollectdParser implements LineParser {
  private readonly types: Map<string, DataSource[]>;

  constructor(private readonly opts: ParserOptions = {}) {
    this.types = opts.types ?? builtinTypes();
  }

  line(text: string): Sample[] {
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return [];
    const command = /^(\S+)/.exec(trimmed)![1]!;
    const upper = command.toUpperCase();
    if (upper === 'PUTNOTIF') {
      this.opts.notify?.(parseNotification(trimmed.slice(command.length)));
      return [];
    }
    if (upper === 'PUTVAL') return this.putval(splitFields(trimmed.slice(command.length)));
    if (/^[A-Z]+$/.test(command)) throw new ParseError(`unsupported command ${command} (only PUTVAL and PUTNOTIF)`);
    // The old form without a command.
    return this.putval(splitFields(trimmed));
  }

  private putval(fields: string[]): Sample[] {
    if (fields.length < 2) throw new ParseError('PUTVAL needs an identifier and a value list');
    const id = parseIdentifier(fields[0]!);
    let values: (number | undefined)[] | undefined;
    for (const f of fields.slice(1)) {
      const eq = f.indexOf('=');
      if (eq > 0 && !f.includes(':')) {
        const key = f.slice(0, eq);
        if (key === 'interval' && !(Number(f.slice(eq + 1)) > 0)) throw new ParseError(`bad interval "${f.slice(eq + 1)}"`);
        continue; // interval is the only option; collectd ignores others too
      }
      // Several value lists may follow; the last one is the current value.
      values = parseValueList(f);
    }
    if (!values) throw new ParseError('PUTVAL without a value list');
    const sources = this.types.get(id.type);
    if (sources && sources.length !== values.length) {
      throw new ParseError(
        `type ${id.type} has ${sources.length} value${sources.length > 1 ? 's' : ''} (${sources.map((d) => d.name).join(', ')}), got ${values.length}`,
      );
    }
    const labels: Record<string, string> = { host: id.host };
    if (id.pluginInstance !== undefined) labels['plugin_instance'] = id.pluginInstance;
    if (id.typeInstance !== undefined) labels['type_instance'] = id.typeInstance;
    const base = `${id.plugin}.${id.type}`;
    const out: Sample[] = [];
    values.forEach((v, i) => {
      if (v === undefined) return; // U: no value this time
      const ds = sources?.[i];
      const name = values!.length === 1 ? base : `${base}.${ds?.name ?? `value${i}`}`;
      const counts = ds?.kind === 'DERIVE' || ds?.kind === 'COUNTER';
      out.push({ name, value: v, labels: { ...labels }, type: counts ? 'counter' : 'gauge' });
    });
    return out;
  }
}

/** `<time|N>:<v>[:<v>...]`; U (undefined) becomes undefined. */
export function parseValueList(s: string): (number | undefined)[] {
  const parts = s.split(':');
  if (parts.length < 2) throw new ParseError(`value list "${s}" is not <time|N>:<value>[:<value>...]`);
  const [time, ...vals] = parts;
  if (time !== 'N' && parseNumber(time!) === undefined) throw new ParseError(`bad time "${time}" in "${s}"`);
  return vals.map((v) => {
    if (v === 'U') return undefined;
    const n = parseNumber(v);
    if (n === undefined) throw new ParseError(`bad value "${v}" in "${s}"`);
    return n;
  });
}

/**
 * PUTNOTIF options (collectd-exec(5), collectd's utils/cmds/putnotif.c): severity, time (epoch
 * seconds), host, plugin, plugin_instance, type, type_instance, and `s:<key>=<value>` a string meta
 * entry; message= takes the rest of the line.
 */
export function parseNotification(rest: string): Notification {
  const at = rest.search(/(^|\s)message=/);
  if (at < 0) throw new ParseError('PUTNOTIF without message=');
  let message = rest.slice(rest.indexOf('message=', at) + 'message='.length).trim();
  if (message.startsWith('"')) message = splitFields(message).join(' ');
  const opts: Record<string, string> = {};
  const meta: Record<string, string> = {};
  for (const f of splitFields(rest.slice(0, at))) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new ParseError(`PUTNOTIF option "${f}" is not key=value`);
    const key = f.slice(0, eq);
    if (key.startsWith('s:') && key.length > 2) meta[key.slice(2)] = f.slice(eq + 1);
    else if (NOTIFICATION_OPTIONS.has(key.toLowerCase())) opts[key.toLowerCase()] = f.slice(eq + 1);
    else throw new ParseError(`PUTNOTIF option "${key}" is not one of ${[...NOTIFICATION_OPTIONS].join(', ')} or s:<key>`);
  }
  const severity = opts['severity']?.toLowerCase();
  if (severity !== 'failure' && severity !== 'warning' && severity !== 'okay') {
    throw new ParseError(`PUTNOTIF severity must be failure, warning or okay, got "${opts['severity'] ?? ''}"`);
  }
  const n: Notification = { severity, message };
  if (opts['time'] !== undefined) {
    const t = parseNumber(opts['time']);
    if (t === undefined || t <= 0) throw new ParseError(`PUTNOTIF time must be seconds since the epoch, got "${opts['time']}"`);
    n.time = Math.round(t * 1000);
  }
  if (opts['host']) n.host = opts['host'];
  if (opts['plugin']) n.plugin = opts['plugin'];
  if (opts['plugin_instance']) n.pluginInstance = opts['plugin_instance'];
  if (opts['type']) n.type = opts['type'];
  if (opts['type_instance']) n.typeInstance = opts['type_instance'];
  if (Object.keys(meta).length) n.meta = meta;
  return n;
}

const NOTIFICATION_OPTIONS = new Set(['severity', 'time', 'host', 'plugin', 'plugin_instance', 'type', 'type_instance']);
