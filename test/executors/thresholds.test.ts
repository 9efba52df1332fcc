// The threshold checks: collectd's state machine (src/threshold.c, 5.12) on batches whose
// timestamps are the clock, the identifiers pollect series map to, and the config's checks.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ThresholdChecker,
  checkRule,
  collectdIdentifier,
  pollectIdentifier,
  State,
  type SourceInfo,
  type ThresholdRule,
} from '../../src/executors/thresholds.js';
import { buildConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';
import type { Batch, Notification, Point } from '../../src/sdk/index.js';
import { point } from '../helpers/points.js';

const T0 = 1_700_000_000_000;
const SEC = 1000;

/** A rule with the schema's defaults, as the validator leaves it. */
function rule(r: Partial<ThresholdRule>): ThresholdRule {
  return { invert: false, persist: false, persistOK: false, hits: 0, hysteresis: 0, interesting: true, percentage: false, ...r } as ThresholdRule;
}

/** An Exec (collectd format) source at a 1 s interval. */
const EXEC: ReadonlyMap<string, SourceInfo> = new Map([['c.Exec', { collectd: true, interval: 1 }]]);

function checker(rules: Partial<ThresholdRule>[], sources = EXEC): ThresholdChecker {
  return new ThresholdChecker(rules.map(rule), { timeout: 2, sources, defaultInterval: 1, host: 'me' });
}

/** PUTVAL h/exec-i/gauge-t as Exec names it. */
function gauge(value: number, t: number, over: Partial<Point> = {}, labels: Record<string, string> = { host: 'h', type_instance: 't' }): Point {
  return point('c.Exec.exec.gauge', value, labels, t, { source: 'c.Exec', ...over });
}

function at(t: number, points: Point[]): Batch {
  return { collection: 'c', timestamp: t, points, sources: [] };
}

/** Feeds one value a second and returns `severity` per notification, `-` for none. */
function run(c: ThresholdChecker, values: (number | null)[]): string[] {
  return values.map((v, i) => {
    const t = T0 + i * SEC;
    const out = c.check(at(t, v === null ? [] : [gauge(v, t)]));
    return out.map((n) => (n.message.includes('has not been updated') ? 'missing' : n.severity)).join(',') || '-';
  });
}

describe('threshold state machine', () => {
  it('notifies each change of state once: okay (from unknown), warning, failure, okay', () => {
    const c = checker([{ type: 'gauge', warningMax: 10, failureMax: 20 }]);
    expect(run(c, [5, 5, 11, 12, 21, 25, 15, 3, 3])).toEqual(['okay', '-', 'warning', '-', 'failure', '-', 'warning', 'okay', '-']);
  });

  it("writes collectd's message and meta", () => {
    const c = checker([{ type: 'gauge', warningMax: 10, failureMax: 20 }]);
    c.check(at(T0, [gauge(5, T0)]));
    const [n] = c.check(at(T0 + SEC, [gauge(21.5, T0 + SEC)]));
    expect(n).toEqual<Notification>({
      time: T0 + SEC,
      severity: 'failure',
      host: 'h',
      plugin: 'exec',
      type: 'gauge',
      typeInstance: 't',
      message: 'Host h, plugin exec type gauge (instance t): Data source "value" is currently 21.500000. That is above the failure threshold of 20.000000.',
      meta: { DataSource: 'value', CurrentValue: 21.5, WarningMax: 10, FailureMax: 20 },
      source: 'threshold',
    });
    const [ok] = c.check(at(T0 + 2 * SEC, [gauge(1, T0 + 2 * SEC)]));
    expect(ok!.message).toBe('Host h, plugin exec type gauge (instance t): All data sources are within range again. Current value of "value" is 1.000000.');
  });

  it('persist: every value out of range; persistOK: every value in range too', () => {
    expect(run(checker([{ type: 'gauge', warningMin: 0, persist: true }]), [1, 1, -1, -1, 1, 1])).toEqual(['okay', '-', 'warning', 'warning', 'okay', '-']);
    expect(run(checker([{ type: 'gauge', warningMin: 0, persist: true, persistOK: true }]), [1, 1, -1, 1])).toEqual(['okay', 'okay', 'warning', 'okay']);
  });

  it('hits: as collectd counts them, the notification comes once the count has passed `hits`', () => {
    // collectd 5.12 increments before comparing with `>`: with Hits 2 the 4th value out of range reports.
    expect(run(checker([{ type: 'gauge', warningMax: 10, hits: 2 }]), [1, 11, 11, 11, 11, 11, 1])).toEqual(['okay', '-', '-', '-', 'warning', '-', 'okay']);
    // An okay value in between starts the count again.
    expect(run(checker([{ type: 'gauge', warningMax: 10, hits: 2 }]), [1, 11, 11, 1, 11, 11, 11, 11])).toEqual([
      'okay',
      '-',
      '-',
      '-',
      '-',
      '-',
      '-',
      'warning',
    ]);
  });

  it('hysteresis holds a warning or failure state until the value is that far inside the range', () => {
    const c = checker([{ type: 'gauge', warningMax: 100, hysteresis: 1 }]);
    // Entering is at the bound (collectd: no hysteresis for the okay state); leaving below 99.
    expect(run(c, [50, 100.5, 99.5, 99.2, 98.9])).toEqual(['okay', 'warning', '-', '-', 'okay']);
  });

  it('invert: values inside the ranges are not okay', () => {
    const c = checker([{ type: 'gauge', warningMin: 10, warningMax: 20, failureMin: 12, failureMax: 18, invert: true }]);
    expect(run(c, [5, 11, 15, 25])).toEqual(['okay', 'warning', 'failure', 'okay']);
    // collectd's quirk, kept: inverted without failure bounds, every value is a failure.
    expect(checkRule(rule({ warningMax: 10, invert: true }), [{ name: 'value' }], [50], State.Okay)).toEqual([State.Failure, 0]);
  });

  it('dataSource and percentage on a value list of several data sources (df: used, free)', () => {
    const df = (used: number, free: number, t: number): Point[] => [
      point('c.Exec.df.df.used', used, { host: 'h', type_instance: 'root' }, t, { source: 'c.Exec' }),
      point('c.Exec.df.df.free', free, { host: 'h', type_instance: 'root' }, t, { source: 'c.Exec' }),
    ];
    const c = checker([{ plugin: 'df', type: 'df', dataSource: 'free', percentage: true, warningMin: 10, failureMin: 5 }]);
    const seq = [
      [50, 50],
      [92, 8],
      [97, 3],
      [60, 40],
    ].map(([u, f], i) => c.check(at(T0 + i * SEC, df(u!, f!, T0 + i * SEC))));
    expect(seq.map((l) => l.map((n) => n.severity).join(','))).toEqual(['okay', 'warning', 'failure', 'okay']);
    expect(seq[1]![0]!.meta).toMatchObject({ DataSource: 'free', CurrentValue: 8 });
    expect(seq[1]![0]!.message).toContain('Data source "free" is currently 8 (8.00%). That is below the warning threshold of 10.00%.');
    // Without dataSource, the worst data source of the list decides.
    const both = checker([{ type: 'df', warningMax: 90 }]);
    expect(both.check(at(T0, df(95, 5, T0)))[0]).toMatchObject({ severity: 'warning', meta: { DataSource: 'used' } });
  });

  it('checks a counter on its rate per second, as collectd checks DERIVE values', () => {
    const c = checker([{ type: 'requests', warningMax: 100 }]);
    const req = (v: number, t: number) => point('c.Exec.nginx.requests', v, { host: 'h' }, t, { source: 'c.Exec', type: 'counter' });
    const got = [0, 50, 300, 350].map(
      (v, i) =>
        c
          .check(at(T0 + i * SEC, [req(v, T0 + i * SEC)]))
          .map((n) => n.severity)
          .join(',') || '-',
    );
    // First reading: no rate yet (NaN is okay, as in collectd); then 50/s, 250/s, 50/s.
    expect(got).toEqual(['okay', '-', 'warning', 'okay']);
  });

  it('notifies a series that stops arriving as missing after `timeout` intervals, once, and starts anew when it comes back', () => {
    const c = checker([{ type: 'gauge', warningMax: 10 }]);
    expect(run(c, [1, 11, null, null, null, null, 11, 1])).toEqual(['okay', 'warning', '-', 'missing', '-', '-', 'warning', 'okay']);
    const quiet = checker([{ type: 'gauge', warningMax: 10, interesting: false }]);
    expect(run(quiet, [1, null, null, null, 1])).toEqual(['okay', '-', '-', '-', 'okay']);
  });

  it('writes the missing notification as collectd does', () => {
    const c = checker([{ type: 'gauge', warningMax: 10 }]);
    c.check(at(T0, [gauge(1, T0)]));
    c.check(at(T0 + SEC, []));
    expect(c.check(at(T0 + 2 * SEC, []))).toEqual([
      {
        host: 'h',
        plugin: 'exec',
        type: 'gauge',
        typeInstance: 't',
        time: T0 + 2 * SEC,
        severity: 'failure',
        message: 'h/exec/gauge-t has not been updated for 2.000 seconds.',
        source: 'threshold',
      },
    ]);
  });

  it('takes the most specific rule, as collectd searches them, and series rules first', () => {
    const c = checker([
      { type: 'gauge', warningMax: 100 },
      { host: 'h', type: 'gauge', typeInstance: 't', warningMax: 10 },
      { plugin: 'exec', type: 'gauge', warningMax: 50 },
    ]);
    expect(run(c, [20])).toEqual(['warning']);
    const other = checker([
      { type: 'gauge', warningMax: 100 },
      { plugin: 'exec', type: 'gauge', warningMax: 50 },
    ]);
    expect(run(other, [70])).toEqual(['warning']);
    const bySeries = checker([
      { type: 'gauge', warningMax: 100 },
      { series: 'c.Exec.exec.*', warningMax: 1 },
    ]);
    expect(run(bySeries, [5])).toEqual(['warning']);
    expect(run(checker([{ type: 'other', warningMax: 1 }]), [5])).toEqual(['-']);
  });

  it('maps pollect series to collectd identifiers', () => {
    const p = point('c.LoadAvg.web.short', 3, { time: 'short', host: 'db1', a: 'x' }, T0, {
      name: { collection: 'c', source: 'LoadAvg', instance: 'web', value: 'short', id: 'c.LoadAvg.web.short' },
    });
    expect(pollectIdentifier(p, 'me')).toEqual([
      { host: 'db1', plugin: 'loadavg', pluginInstance: 'web', type: 'short', typeInstance: 'a=x,time=short' },
      'value',
    ]);
    const bare = point('c.Dummy', 3, {}, T0);
    expect(pollectIdentifier(bare, 'me')[0]).toEqual({ host: 'me', plugin: 'dummy', pluginInstance: '', type: 'value', typeInstance: '' });
    const ifo = point('c.Exec.interface.if_octets.rx', 1, { host: 'h', plugin_instance: 'eth0' }, T0);
    expect(collectdIdentifier(ifo, 'me')).toEqual([{ host: 'h', plugin: 'interface', pluginInstance: 'eth0', type: 'if_octets', typeInstance: '' }, 'rx']);
    // A pollect source's series, checked by its mapped identifier.
    const c = checker([{ plugin: 'loadavg', type: 'short', warningMax: 2 }], new Map());
    expect(
      c.check(at(T0, [{ ...p, source: 'c.LoadAvg.web' }])).map((n) => `${n.severity} ${n.host}/${n.plugin}-${n.pluginInstance}/${n.type}-${n.typeInstance}`),
    ).toEqual(['warning db1/loadavg-web/short-a=x,time=short']);
  });
});

describe('thresholds config', () => {
  const base = { writer: { type: 'DryRun' }, executors: [{ sources: [{ type: 'Dummy' }] }] };

  it("fills the defaults and puts the executor's rules before the top-level ones", async () => {
    const cfg = await buildConfig(
      { ...base, thresholds: [{ type: 'load', warningMax: 2 }], executors: [{ sources: [{ type: 'Dummy' }], thresholds: [{ series: 'c.*', failureMax: 1 }] }] },
      '/x/c.json',
    );
    expect(cfg.executors[0]!.thresholds).toEqual({
      timeout: 2,
      rules: [
        { series: 'c.*', failureMax: 1, invert: false, persist: false, persistOK: false, hits: 0, hysteresis: 0, interesting: true, percentage: false },
        { type: 'load', warningMax: 2, invert: false, persist: false, persistOK: false, hits: 0, hysteresis: 0, interesting: true, percentage: false },
      ],
    });
    const none = await buildConfig(base, '/x/c.json');
    expect(none.executors[0]!.thresholds).toBeUndefined();
  });

  it('takes the example of docs/notifications.md', async () => {
    const doc = readFileSync(new URL('../../docs/notifications.md', import.meta.url), 'utf8');
    const json = /```json\n([\s\S]*?)```/.exec(doc)![1]!;
    const cfg = await buildConfig(JSON.parse(json), '/x/c.json');
    expect(cfg.executors[0]!.thresholds!.rules).toHaveLength(5);
  });

  it('rejects bad rules, naming the path', async () => {
    const err = (await buildConfig(
      {
        ...base,
        thresholdTimeout: 0,
        thresholds: [{ warningMax: 2 }, { type: 'x', WarningMax: 3 }, { type: 'x', hits: -1 }, { type: 'x', pluginInstance: 'eth0' }],
      },
      '/x/c.json',
    ).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    const text = err.problems.join('\n');
    expect(text).toMatch(/thresholds\[0\]/);
    expect(text).toMatch(/thresholds\[1\].*WarningMax/);
    expect(text).toMatch(/thresholds\[2\]\.hits/);
    expect(text).toMatch(/thresholdTimeout/);
    expect(text).toMatch(/thresholds\[3\]: must have property plugin when property pluginInstance is present/);
    const mixed = (await buildConfig(
      { writer: { type: 'DryRun' }, executors: [{ sources: [{ type: 'Dummy' }], thresholds: [{ series: 'a.*', type: 'load', warningMax: 1 }] }] },
      '/x/c.json',
    ).catch((e: unknown) => e)) as ConfigError;
    expect(mixed.problems).toEqual([`executors[0].thresholds[0]: "series" selects by pollect's name; leave out type (or "series")`]);
  });
});
