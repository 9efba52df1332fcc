// Thresholds as collectd's threshold plugin (collectd.conf(5), THRESHOLD CONFIGURATION) has them,
// with the same state machine as its src/threshold.c (5.12): after each tick the core checks the
// executor's points against the rules, and notifies a change of state (okay, warning, failure) once,
// every time with `persist`; a series a rule covers that stops arriving is notified as missing.
// How a pollect series maps to collectd's host/plugin/type identifier: see docs/notifications.md.
import os from 'node:os';
import type { Batch, JsonSchema, Notification, ParamsOf, Point } from '../sdk/index.js';
import { globRegex } from './filter.js';

const bound = (what: string) => ({ type: 'number', description: what }) as const;
const flag = (what: string, dflt: boolean) => ({ type: 'boolean', default: dflt, description: what }) as const;
const name = (what: string) => ({ type: 'string', minLength: 1, description: what }) as const;

export const thresholdSchema = {
  type: 'object',
  additionalProperties: false,
  description: "One threshold: collectd's <Type> block (inside <Plugin> and <Host> blocks), or a rule on pollect's series names",
  anyOf: [{ required: ['type'] }, { required: ['series'] }],
  // As in collectd, where Instance names a plugin's instance inside its <Plugin> block only.
  dependencies: { pluginInstance: ['plugin'] },
  properties: {
    host: name("The series' host (collectd's <Host> block); left out: any host"),
    plugin: name("The plugin (collectd's <Plugin> block); for a pollect source, its type in lower case (`loadavg`); left out: any plugin"),
    pluginInstance: name("The plugin instance (<Plugin>'s Instance); for a pollect source, its `name`; left out: any"),
    type: name("The type (collectd's <Type> block); for a pollect source, the sample's name (`value` when it has none)"),
    typeInstance: name("The type instance (<Type>'s Instance); for a pollect source, the sample's labels but host, `key=value` joined by `,`; left out: any"),
    series: name(
      "Instead of host ... typeInstance: a glob (* and ?) on pollect's dotted series name (`pollect.LoadAvg.*`); tried before the others, first match wins",
    ),
    dataSource: name("Only this data source of the type (`rx` of if_octets; `value` for one-value types): collectd's DataSource"),
    warningMin: bound('A warning below this value: WarningMin'),
    warningMax: bound('A warning above this value: WarningMax'),
    failureMin: bound('A failure below this value: FailureMin'),
    failureMax: bound('A failure above this value: FailureMax'),
    invert: flag('The ranges are inverted: values inside them are not okay (Invert)', false),
    persist: flag('Notify every value out of range, not only a change of state (Persist)', false),
    persistOK: flag('With persist: notify every value within range too (PersistOK)', false),
    hits: { type: 'integer', minimum: 0, default: 0, description: 'Notify only after the range was passed this many times in a row (Hits)' },
    hysteresis: { type: 'number', minimum: 0, default: 0, description: 'Leave a warning or failure state only this far inside the range (Hysteresis)' },
    interesting: flag('Notify (as a failure) when the series stops arriving for `thresholdTimeout` intervals (Interesting)', true),
    percentage: flag("Check each data source's share of the value list's sum, in percent (Percentage)", false),
  },
} as const satisfies JsonSchema;

export const thresholdsSchema = {
  type: 'array',
  items: thresholdSchema,
  description: "Thresholds checked on the samples (collectd's threshold plugin; see docs/notifications.md)",
} as const satisfies JsonSchema;

/** A rule as the validator leaves it: its defaults filled in. */
export type ThresholdRule = ParamsOf<typeof thresholdSchema>;

/** collectd's identifier of a value list; '' for an instance it does not have. */
export interface Identifier {
  host: string;
  plugin: string;
  pluginInstance: string;
  type: string;
  typeInstance: string;
}

/** collectd's states (utils_cache.h); the order matters: the worst is the largest. */
export const State = { Unknown: 0, Okay: 1, Warning: 2, Failure: 3 } as const;
export type State = (typeof State)[keyof typeof State];

/** What the checker knows of a source: whether its samples carry collectd's names, and its interval. */
export interface SourceInfo {
  /** Exec with `format: collectd` and CollectdPython: `<plugin>.<type>[.<data source>]` with host and instance labels. */
  collectd: boolean;
  /** Seconds between its probes. */
  interval: number;
}

/** Whether a source's samples are named from collectd identifiers (see SourceInfo.collectd). */
export function namesLikeCollectd(typeName: string, config: { format?: unknown }): boolean {
  return typeName === 'CollectdPython' || (typeName === 'Exec' && config.format === 'collectd');
}

interface DataSourceValue {
  name: string;
  value: number;
  counter: boolean;
}

/** The points of one collectd value list in a batch. */
interface ValueList {
  key: string;
  id: Identifier;
  ids: string[];
  ds: DataSourceValue[];
  source: string;
  time: number;
}

interface SeriesState {
  state: State;
  hits: number;
  /** Tick timestamp of the last value, ms. */
  seen: number;
  intervalMs: number;
  /** The first rule of its chain: collectd asks it whether the series is `interesting`. */
  rule: ThresholdRule;
  id: Identifier;
  /** Counters: the last reading of each data source, for its rate. */
  last?: Map<string, { value: number; time: number }>;
}

interface CompiledSeries {
  rule: ThresholdRule;
  match: RegExp;
}

export interface ThresholdOptions {
  /** collectd's Timeout: intervals without a value before a series is missing. */
  timeout: number;
  /** The sources of the executor by id; a source not listed has pollect names and `defaultInterval`. */
  sources?: ReadonlyMap<string, SourceInfo>;
  /** Seconds: the executor's tickTime. */
  defaultInterval: number;
  /** The host of pollect series without a `host` label (default: this machine's name). */
  host?: string;
}

export class ThresholdChecker {
  /** collectd's lookup: rules by `host/plugin/pluginInstance/type/typeInstance`; several per key form a chain. */
  private readonly byKey = new Map<string, ThresholdRule[]>();
  private readonly bySeries: CompiledSeries[] = [];
  private readonly states = new Map<string, SeriesState>();
  private readonly opts: ThresholdOptions;
  private readonly host: string;

  constructor(rules: readonly ThresholdRule[], opts: ThresholdOptions) {
    this.opts = opts;
    this.host = opts.host ?? os.hostname();
    for (const r of rules) {
      if (r.series !== undefined) {
        this.bySeries.push({ rule: r, match: globRegex(r.series) });
        continue;
      }
      const k = key(r.host ?? '', r.plugin ?? '', r.pluginInstance ?? '', r.type ?? '', r.typeInstance ?? '');
      const chain = this.byKey.get(k);
      if (chain) chain.push(r);
      else this.byKey.set(k, [r]);
    }
  }

  get empty(): boolean {
    return this.byKey.size === 0 && this.bySeries.length === 0;
  }

  /** Checks one batch: the notifications of the series it changed, then of those gone missing. */
  check(batch: Batch): Notification[] {
    const out: Notification[] = [];
    if (this.empty) return out;
    for (const vl of this.valueLists(batch.points)) {
      const chain = this.search(vl);
      if (chain) this.checkValueList(vl, chain, batch.timestamp, out);
    }
    this.missing(batch.timestamp, out);
    return out;
  }

  /** Groups points into collectd value lists: one per identifier (a type's data sources together). */
  private valueLists(points: readonly Point[]): ValueList[] {
    const lists = new Map<string, ValueList>();
    for (const p of points) {
      if (p.naming === 'prometheus') continue; // the same reading, for the other naming
      const info = this.opts.sources?.get(p.source);
      const [id, ds] = info?.collectd ? collectdIdentifier(p, this.host) : pollectIdentifier(p, this.host);
      const k = key(id.host, id.plugin, id.pluginInstance, id.type, id.typeInstance);
      let vl = lists.get(k);
      if (!vl) lists.set(k, (vl = { key: k, id, ids: [], ds: [], source: p.source, time: p.timestamp }));
      vl.ids.push(p.name.id);
      vl.ds.push({ name: ds, value: p.value, counter: p.type === 'counter' });
    }
    return [...lists.values()];
  }

  /** collectd's threshold_search: the most specific rule chain, after the series rules. */
  private search(vl: ValueList): ThresholdRule[] | undefined {
    for (const s of this.bySeries) if (vl.ids.some((id) => s.match.test(id))) return [s.rule];
    const { host: h, plugin: p, pluginInstance: pi, type: t, typeInstance: ti } = vl.id;
    const tries: [string, string, string, string][] = [
      [h, p, pi, ti],
      [h, p, pi, ''],
      [h, p, '', ti],
      [h, p, '', ''],
      [h, '', '', ti],
      [h, '', '', ''],
      ['', p, pi, ti],
      ['', p, pi, ''],
      ['', p, '', ti],
      ['', p, '', ''],
      ['', '', '', ti],
      ['', '', '', ''],
    ];
    for (const [host, plugin, pinst, tinst] of tries) {
      const chain = this.byKey.get(key(host, plugin, pinst, t, tinst));
      if (chain) return chain;
    }
    return undefined;
  }

  /** ut_check_threshold: the worst state of any rule of the chain and data source, then ut_report_state. */
  private checkValueList(vl: ValueList, chain: ThresholdRule[], now: number, out: Notification[]): void {
    let st = this.states.get(vl.key);
    const intervalMs = (this.opts.sources?.get(vl.source)?.interval ?? this.opts.defaultInterval) * 1000;
    if (!st) {
      st = { state: State.Unknown, hits: 0, seen: now, intervalMs, rule: chain[0]!, id: vl.id };
      this.states.set(vl.key, st);
    }
    st.seen = now;
    st.intervalMs = intervalMs;
    const values = this.rates(st, vl);
    let worst = -1;
    let worstRule = chain[0]!;
    let worstDs = -1;
    for (const rule of chain) {
      const [state, ds] = checkRule(rule, vl.ds, values, st.state);
      if (worst < state) {
        worst = state;
        worstRule = rule;
        worstDs = ds;
      }
    }
    const n = report(st, worstRule, worst as State, vl, values, worstDs);
    if (n) out.push(n);
  }

  /** uc_get_rate: gauges as they are, counters per second since their last reading (NaN at first, or after a reset). */
  private rates(st: SeriesState, vl: ValueList): number[] {
    return vl.ds.map((d) => {
      if (!d.counter) return d.value;
      st.last ??= new Map();
      const prev = st.last.get(d.name);
      st.last.set(d.name, { value: d.value, time: vl.time });
      if (!prev || vl.time <= prev.time || d.value < prev.value) return NaN;
      return (d.value - prev.value) / ((vl.time - prev.time) / 1000);
    });
  }

  /**
   * uc_check_timeout and ut_missing: a series not seen for `timeout` of its intervals is notified
   * as a failure (when its rule is `interesting`) and forgotten, as collectd drops it from its
   * cache: once, whatever `persist` says, and its next value starts from an unknown state.
   */
  private missing(now: number, out: Notification[]): void {
    for (const [k, st] of this.states) {
      if (now - st.seen < st.intervalMs * this.opts.timeout) continue;
      this.states.delete(k);
      if (!st.rule.interesting) continue;
      out.push({
        ...notificationFields(st.id),
        time: now,
        severity: 'failure',
        message: `${formatIdentifier(st.id)} has not been updated for ${((now - st.seen) / 1000).toFixed(3)} seconds.`,
        source: 'threshold',
      });
    }
  }
}

/** ut_check_one_threshold: the worst state of the data sources and its index (Unknown for every one a dataSource leaves out). */
export function checkRule(rule: ThresholdRule, ds: readonly { name: string }[], values: readonly number[], prev: State): [State, number] {
  let checked = values;
  if (rule.percentage) {
    const defined = values.filter((v) => !Number.isNaN(v));
    const sum = defined.reduce((a, b) => a + b, 0);
    checked = defined.length === 0 || sum === 0 ? values.map(() => NaN) : values.map((v) => (100 * v) / sum);
  }
  let ret = -1;
  let index = -1;
  checked.forEach((v, i) => {
    const s = checkOne(rule, ds[i]!.name, v, prev);
    if (ret < s) {
      ret = s;
      index = i;
    }
  });
  return [ret as State, index];
}

/**
 * ut_check_one_data_source, as collectd has it. With `invert`, a range not configured counts as
 * "inside" (collectd starts both counts at -1): an inverted rule without failure bounds reports
 * every value as a failure. With `hysteresis`, only a warning or failure state is held longer.
 */
function checkOne(rule: ThresholdRule, dsName: string, v: number, prev: State): State {
  if (rule.dataSource !== undefined && rule.dataSource !== dsName) return State.Unknown;
  let isWarning = rule.invert ? -1 : 0;
  let isFailure = rule.invert ? -1 : 0;
  const hWarn = prev === State.Warning ? rule.hysteresis : 0;
  const hFail = prev === State.Failure ? rule.hysteresis : 0;
  const { warningMin: wMin, warningMax: wMax, failureMin: fMin, failureMax: fMax } = rule;
  // Comparisons with NaN are false, as in C: a value that is not a number is okay.
  if ((fMin !== undefined && fMin + hFail > v) || (fMax !== undefined && fMax - hFail < v)) isFailure++;
  if ((wMin !== undefined && wMin + hWarn > v) || (wMax !== undefined && wMax - hWarn < v)) isWarning++;
  if (isFailure !== 0) return State.Failure;
  if (isWarning !== 0) return State.Warning;
  return State.Okay;
}

/** ut_report_state: Hits, then one notification per change of state (every value with persist). */
function report(st: SeriesState, rule: ThresholdRule, state: State, vl: ValueList, values: number[], dsIndex: number): Notification | undefined {
  if (rule.hits !== 0) {
    // collectd resets the count at an okay value (unless persistOK) and once it passed `hits`.
    if ((state === State.Okay && !rule.persistOK) || st.hits > rule.hits) st.hits = 0;
    else {
      st.hits++;
      return undefined;
    }
  }
  const old = st.state;
  if (state === old) {
    if (state === State.Unknown || !rule.persist) return undefined;
    if (state === State.Okay && !rule.persistOK) return undefined;
  }
  st.state = state;
  if (state === State.Unknown) return undefined; // collectd logs "this shouldn't happen" and sends nothing
  const ds = vl.ds[dsIndex]!.name;
  const value = values[dsIndex]!;
  const meta: Record<string, string | number> = { DataSource: ds, CurrentValue: value };
  for (const [k, v] of [
    ['WarningMin', rule.warningMin],
    ['WarningMax', rule.warningMax],
    ['FailureMin', rule.failureMin],
    ['FailureMax', rule.failureMax],
  ] as const)
    if (v !== undefined) meta[k] = v;
  return {
    ...notificationFields(vl.id),
    time: vl.time,
    severity: state === State.Okay ? 'okay' : state === State.Warning ? 'warning' : 'failure',
    message: `${subject(vl.id)}: ${stateMessage(rule, state, ds, value, values)}`,
    meta,
    source: 'threshold',
  };
}

/** collectd's message text after the subject, with C's %f (six decimals). */
function stateMessage(rule: ThresholdRule, state: State, ds: string, value: number, values: number[]): string {
  if (state === State.Okay) return `All data sources are within range again. Current value of "${ds}" is ${f(value)}.`;
  const failure = state === State.Failure;
  const min = (failure ? rule.failureMin : rule.warningMin) ?? NaN;
  const max = (failure ? rule.failureMax : rule.warningMax) ?? NaN;
  const which = failure ? 'failure' : 'warning';
  const pct = rule.percentage ? '%' : '';
  if (rule.invert) {
    if (!Number.isNaN(min) && !Number.isNaN(max))
      return `Data source "${ds}" is currently ${f(value)}. That is within the ${which} region of ${f(min)}${pct} and ${f(max)}${pct}.`;
    return `Data source "${ds}" is currently ${f(value)}. That is ${Number.isNaN(min) ? 'below' : 'above'} the ${which} threshold of ${f(Number.isNaN(min) ? max : min)}${pct}.`;
  }
  if (rule.percentage) {
    const sum = values.filter((v) => !Number.isNaN(v)).reduce((a, b) => a + b, 0);
    const share = sum === 0 ? NaN : (100 * value) / sum;
    return `Data source "${ds}" is currently ${value} (${share.toFixed(2)}%). That is ${share < min ? 'below' : 'above'} the ${which} threshold of ${(share < min ? min : max).toFixed(2)}%.`;
  }
  return `Data source "${ds}" is currently ${f(value)}. That is ${value < min ? 'below' : 'above'} the ${which} threshold of ${f(value < min ? min : max)}.`;
}

function f(v: number): string {
  return Number.isNaN(v) ? 'nan' : v.toFixed(6);
}

/** `Host h, plugin p (instance pi) type t (instance ti)`, as collectd starts its messages. */
function subject(id: Identifier): string {
  return (
    `Host ${id.host}, plugin ${id.plugin}${id.pluginInstance ? ` (instance ${id.pluginInstance})` : ''}` +
    ` type ${id.type}${id.typeInstance ? ` (instance ${id.typeInstance})` : ''}`
  );
}

/** collectd's FORMAT_VL: host/plugin[-pi]/type[-ti]. */
export function formatIdentifier(id: Identifier): string {
  return `${id.host}/${id.plugin}${id.pluginInstance ? `-${id.pluginInstance}` : ''}/${id.type}${id.typeInstance ? `-${id.typeInstance}` : ''}`;
}

function notificationFields(id: Identifier): Pick<Notification, 'host' | 'plugin' | 'pluginInstance' | 'type' | 'typeInstance'> {
  return {
    host: id.host,
    plugin: id.plugin,
    ...(id.pluginInstance && { pluginInstance: id.pluginInstance }),
    type: id.type,
    ...(id.typeInstance && { typeInstance: id.typeInstance }),
  };
}

function key(host: string, plugin: string, pluginInstance: string, type: string, typeInstance: string): string {
  return JSON.stringify([host, plugin, pluginInstance, type, typeInstance]);
}

/**
 * A point of a collectd-named source, back to its identifier (the reverse of Exec's and
 * CollectdPython's naming): the sample `<plugin>.<type>[.<data source>]`, the labels host,
 * plugin_instance and type_instance. The data source of a one-value type is `value`.
 */
export function collectdIdentifier(p: Point, defaultHost: string): [Identifier, string] {
  const [plugin = '', type = '', ...ds] = (p.name.value ?? '').split('.');
  const id: Identifier = {
    host: p.labels['host'] ?? defaultHost,
    plugin,
    pluginInstance: p.labels['plugin_instance'] ?? '',
    type,
    typeInstance: p.labels['type_instance'] ?? '',
  };
  return [id, ds.length ? ds.join('.') : 'value'];
}

/**
 * Any other point: host from its `host` label (the top-level labels' host, say) or this machine;
 * plugin the source type in lower case, plugin instance the source's name; type the sample's name
 * (`value` when it has none), type instance its other labels, `key=value` sorted by key and joined
 * by `,`. One data source, `value`.
 */
export function pollectIdentifier(p: Point, defaultHost: string): [Identifier, string] {
  let typeInstance = '';
  for (const k of Object.keys(p.labels).sort()) {
    if (k === 'host') continue;
    typeInstance += `${typeInstance ? ',' : ''}${k}=${p.labels[k]}`;
  }
  const id: Identifier = {
    host: p.labels['host'] ?? defaultHost,
    plugin: p.name.source.toLowerCase(),
    pluginInstance: p.name.instance ?? '',
    type: p.name.value ?? 'value',
    typeInstance,
  };
  return [id, 'value'];
}
