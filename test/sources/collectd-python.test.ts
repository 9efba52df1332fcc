import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { CollectdPythonSource, type CollectdPythonConfig } from '../../src/sources/collectd-python/index.js';
import { parseTypesDb } from '../../src/sources/collectd-python/types.js';
import { probeOnce, valueOf, quietLog } from '../helpers/probe.js';
import { tempDir } from '../helpers/net.js';
import { build, type Params } from '../helpers/plugin.js';
import { needs, python3 } from '../helpers/servers.js';
import { spawnCli } from '../helpers/cli.js';
import { readmeExamples, paramProblems } from '../helpers/readme-examples.js';
import { createLogger } from '../../src/log.js';
import { ParamError, type NotificationInput, type Sample } from '../../src/sdk/index.js';

let tmp: ReturnType<typeof tempDir>;
let plugins: string;
const started: CollectdPythonSource[] = [];

beforeAll(() => {
  tmp = tempDir('pollect-collectd-python-');
  plugins = path.join(tmp.dir, 'plugins');
  mkdirSync(plugins);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.shutdown()));
});
afterAll(() => tmp.remove());

/** Python for plugins whose output the test polls: the file appears whole or not at all (a plain
 * open(..., "w") lets the test read it empty, between the open and the dump). */
const DUMP = `import os
def dump(obj, path):
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f)
    os.replace(path + ".tmp", path)`;

/** Writes a plugin module into the plugins folder. */
function plugin(name: string, code: string): void {
  writeFileSync(path.join(plugins, `${name}.py`), code);
}

async function make(config: Params<CollectdPythonConfig>, log = quietLog): Promise<CollectdPythonSource> {
  const src = build(CollectdPythonSource, { type: 'CollectdPython', modulePath: 'plugins', hostname: 'testhost', python: python3(), ...config } as never, {
    configDir: tmp.dir,
    tickTime: 10,
  });
  await src.init({ log, tickTime: 10, configDir: tmp.dir, signal: AbortSignal.timeout(10_000) });
  started.push(src);
  return src;
}

async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function tryProbe(src: CollectdPythonSource): Promise<Sample[] | Error> {
  try {
    return await probeOnce(src);
  } catch (err) {
    return err as Error;
  }
}

/** Probes until the samples include `name` (the child dispatches on its own schedule). */
function samplesWith(src: CollectdPythonSource, name: string): Promise<Sample[]> {
  return waitFor(name, async () => {
    const s = await tryProbe(src);
    return !(s instanceof Error) && s.some((x) => x.name === name) ? s : undefined;
  });
}

/** Probes until one fails, matching `re`. */
function errorMatching(src: CollectdPythonSource, re: RegExp, ms = 10_000): Promise<string> {
  let last = '';
  return waitFor(
    `an error matching ${re}`,
    async () => {
      const s = await tryProbe(src);
      if (s instanceof Error) last = s.message;
      return s instanceof Error && re.test(s.message) ? s.message : undefined;
    },
    ms,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last error: ${last}`);
  });
}

/** What --check prints for a ParamError: `param: message`. */
function checkError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof ParamError ? `${err.param}: ${err.message}` : `not a ParamError: ${String(err)}`;
  }
  return 'no error';
}

function capturingLog(): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger('test', { level: 'debug', write: (l: string) => void lines.push(l) }), lines };
}

const python = needs('python3');

describe.skipIf(!python)('CollectdPython: the documentation example', () => {
  it('runs the example read function of collectd-python(5) and names its value plugin.type', async () => {
    // EXAMPLES of collectd-python(5), with Python 3's print.
    plugin(
      'spam',
      `import collectd, random
def read(data=None):
    vl = collectd.Values(type='gauge')
    vl.plugin='python.spam'
    vl.dispatch(values=[random.random() * 100])
def write(vl, data=None):
    for i in vl.values:
        print("%s (%s): %f" % (vl.plugin, vl.type, i))
collectd.register_read(read);
collectd.register_write(write);
`,
    );
    const src = await make({ import: ['spam'], interval: 0.2 });
    const s = await samplesWith(src, 'python.spam.gauge');
    const v = valueOf(s, 'python.spam.gauge', { host: 'testhost' });
    expect(v).toBeGreaterThanOrEqual(0);
    expect(v).toBeLessThan(100);
    expect(s.find((x) => x.name === 'python.spam.gauge')).toMatchObject({ type: 'gauge', labels: { host: 'testhost' } });
  });

  it('maps identifiers: instances as labels, a multi-value type per data source, derive and counter as counters', async () => {
    plugin(
      'ident',
      `import collectd
def read():
    collectd.Values(plugin='ident', plugin_instance='db1', type='if_octets', type_instance='eth0').dispatch(values=[10, 20])
    collectd.Values(plugin='ident', type='counter').dispatch(values=[7])
    collectd.Values(type='absolute', host='other').dispatch(values=[3])
    collectd.Values(plugin='ident', type='load').dispatch(values=[float('nan'), float('inf'), 0.5])
collectd.register_read(read, 0.2)
`,
    );
    const src = await make({ import: ['ident'] });
    const s = await samplesWith(src, 'ident.load.longterm');
    expect(s.filter((x) => x.name === 'ident.if_octets.rx')).toEqual([
      { name: 'ident.if_octets.rx', value: 10, type: 'counter', labels: { host: 'testhost', plugin_instance: 'db1', type_instance: 'eth0' } },
    ]);
    expect(valueOf(s, 'ident.if_octets.tx', { plugin_instance: 'db1', type_instance: 'eth0' })).toBe(20);
    expect(s.find((x) => x.name === 'ident.counter')).toEqual({ name: 'ident.counter', value: 7, type: 'counter', labels: { host: 'testhost' } });
    // An empty plugin is "python"; absolute stays a gauge.
    expect(s.find((x) => x.name === 'python.absolute')).toEqual({ name: 'python.absolute', value: 3, type: 'gauge', labels: { host: 'other' } });
    // NaN is collectd's U, no value; an infinity neither.
    expect(s.filter((x) => x.name?.startsWith('ident.load.')).map((x) => [x.name, x.value])).toEqual([['ident.load.longterm', 0.5]]);
  });
});

describe.skipIf(!python)('CollectdPython: the first probe', () => {
  it('waits for the first reads, so one probe (pollect --once) has values', async () => {
    plugin(
      'slowstart',
      `import collectd, time\ntime.sleep(0.3)\ncollectd.register_read(lambda: collectd.Values(plugin='s', type='gauge').dispatch(values=[5]), 30)\n`,
    );
    const src = await make({ import: ['slowstart'] });
    expect(await probeOnce(src)).toEqual([{ name: 's.gauge', value: 5, type: 'gauge', labels: { host: 'testhost' } }]);
  });

  it('waits no longer than its timeout', async () => {
    plugin('neverready', `import collectd, time\ndef init():\n    time.sleep(30)\ncollectd.register_init(init)\n`);
    const src = await make({ import: ['neverready'] });
    const t0 = Date.now();
    expect(await probeOnce(src, { timeoutMs: 300 })).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe.skipIf(!python)('CollectdPython: config', () => {
  it('hands each module its tree as collectd Config objects: keys, typed values, blocks with values, repeated keys, parents', async () => {
    const out = path.join(tmp.dir, 'config.json');
    plugin(
      'conftree',
      `import collectd, json
def walk(c):
    return {"key": c.key, "values": list(c.values), "types": [type(v).__name__ for v in c.values],
            "children": [walk(k) for k in c.children], "parent": c.parent.key if c.parent is not None else None}
${DUMP}
def config(c, data):
    dump(walk(c), data)
collectd.register_config(config, ${JSON.stringify(out)})
`,
    );
    await make({
      import: ['conftree'],
      modules: {
        conftree: {
          Host: 'db1',
          Port: 5432,
          Verbose: true,
          Tags: ['a', 'b'],
          Node: [{ $values: ['local'], Path: '/tmp' }, { $values: ['remote'] }],
          Match: [['x', 1], ['y']],
        },
      },
    });
    const tree = await waitFor('the config callback', () => existsSync(out) && JSON.parse(readFileSync(out, 'utf8')));
    const leaf = (key: string, values: unknown[], types: string[], parent = 'Module'): object => ({ key, values, types, children: [], parent });
    expect(tree).toEqual({
      key: 'Module',
      values: ['conftree'],
      types: ['str'],
      parent: null,
      children: [
        leaf('Host', ['db1'], ['str']),
        leaf('Port', [5432], ['float']),
        leaf('Verbose', [true], ['bool']),
        leaf('Tags', ['a', 'b'], ['str', 'str']),
        { key: 'Node', values: ['local'], types: ['str'], parent: 'Module', children: [leaf('Path', ['/tmp'], ['str'], 'Node')] },
        leaf('Node', ['remote'], ['str']),
        leaf('Match', ['x', 1], ['str', 'float']),
        leaf('Match', ['y'], ['str']),
      ],
    });
  });

  it('resolves modulePath relative to the config file and refuses a folder that is not there', () => {
    expect(checkError(() => build(CollectdPythonSource, { import: ['x'], modulePath: 'nope' }, { configDir: tmp.dir }))).toMatch(
      /^modulePath: .*nope is not a folder/,
    );
    expect(checkError(() => build(CollectdPythonSource, { import: ['x'], modulePath: ['plugins', 'nope'] }, { configDir: tmp.dir }))).toMatch(
      /modulePath\[1\]: .*nope is not a folder/,
    );
    expect(() => build(CollectdPythonSource, { import: ['x'], modulePath: 'plugins' }, { configDir: tmp.dir })).not.toThrow();
  });

  it('refuses config trees collectd cannot express, naming the path', () => {
    const bad = (modules: unknown): string => checkError(() => build(CollectdPythonSource, { import: ['x'], modules } as never, { configDir: tmp.dir }));
    expect(bad({ spam: { Host: null } })).toMatch(/^modules\.spam\.Host: must be a string/);
    expect(bad({ spam: { Tags: ['a', { B: 1 }] } })).toMatch(/^modules\.spam\.Tags\[0\]: a list mixing values/);
    expect(bad({ spam: { Node: { $values: 'local' } } })).toMatch(/^modules\.spam\.Node\.\$values: must be a list/);
    expect(bad({ spam: { Node: [{ A: { B: [null] } }] } })).toMatch(/^modules\.spam\.Node\[0\]\.A\.B/);
    expect(bad({ spam: { Ok: 'x' } })).toBe('no error');
    // A list: several <Module spam> blocks, each checked on its own.
    expect(bad({ spam: [{ Ok: 'x' }, { Ok: 'y' }] })).toBe('no error');
    expect(bad({ spam: [{ Ok: 'x' }, { Host: null }] })).toMatch(/^modules\.spam\[1\]\.Host: must be a string/);
    expect(bad({ spam: [] })).toMatch(/modules\.spam: must be an object, or a list/);
    expect(bad({ spam: ['x'] })).toMatch(/modules\.spam: must be an object, or a list/);
    // All of it travels in one environment variable, which Linux limits to 128 KiB.
    expect(bad({ spam: { Big: 'x'.repeat(130_000) } })).toMatch(/^modules: the modules' config and the data sets come to \d+ bytes, more than 120000/);
  });

  it('reads the data sets of a types.db and refuses a bad one at --check', () => {
    const db = parseTypesDb('# c\nif_octets rx:DERIVE:0:U, tx:DERIVE:0:U\nload shortterm:GAUGE:0:5000, midterm:GAUGE:0:5000, longterm:GAUGE:0:5000\n');
    expect(db.get('if_octets')).toEqual([
      ['rx', 'DERIVE', 0, null],
      ['tx', 'DERIVE', 0, null],
    ]);
    expect(db.get('load')?.map((d) => d[0])).toEqual(['shortterm', 'midterm', 'longterm']);
    writeFileSync(path.join(tmp.dir, 'bad.db'), 'gauge value:GAUGE:U:U\nmine value:FLOAT:0:U\n');
    expect(checkError(() => build(CollectdPythonSource, { import: ['x'], typesDb: 'bad.db' }, { configDir: tmp.dir }))).toMatch(
      /^typesDb: .*bad\.db line 2: bad data source "value:FLOAT:0:U"/,
    );
  });

  it('gives plugins the data sets of its types.db through get_dataset, and refuses unknown types and wrong value counts at dispatch', async () => {
    writeFileSync(path.join(tmp.dir, 'my.db'), 'gauge value:GAUGE:U:U\npair a:GAUGE:0:10, b:DERIVE:U:U\n');
    const out = path.join(tmp.dir, 'dataset.json');
    plugin(
      'dataset',
      `import collectd, json, math
${DUMP}
def read():
    got = {"pair": [[n, t, None if math.isnan(lo) else lo, None if math.isnan(hi) else hi] for n, t, lo, hi in collectd.get_dataset("pair")]}
    for call in (lambda: collectd.get_dataset("nope"), lambda: collectd.Values(type="nope").dispatch(values=[1]),
                 lambda: collectd.Values(type="pair").dispatch(values=[1]), lambda: collectd.Values().dispatch(values=[1]),
                 lambda: collectd.Values(type="gauge").dispatch(values=["x"])):
        try:
            call()
        except Exception as e:
            got.setdefault("errors", []).append("%s: %s" % (type(e).__name__, e))
    dump(got, ${JSON.stringify(out)})
collectd.register_read(read, 0.2)
`,
    );
    await make({ import: ['dataset'], typesDb: 'my.db' });
    const got = await waitFor('the read callback', () => existsSync(out) && JSON.parse(readFileSync(out, 'utf8')));
    expect(got).toEqual({
      pair: [
        ['a', 1, 0, 10],
        ['b', 2, null, null],
      ],
      errors: [
        'TypeError: Dataset nope not found',
        'TypeError: Dataset nope not found',
        'RuntimeError: type pair needs 2 values, got 1',
        'RuntimeError: type not set',
        "TypeError: value 'x' for data source value of type gauge is not a number",
      ],
    });
  });
});

describe.skipIf(!python)('CollectdPython: lifecycle', () => {
  it('calls init once before the reads, honours read intervals, and calls shutdown at shutdown', async () => {
    const log = path.join(tmp.dir, 'life.log');
    plugin(
      'life',
      `import collectd, time
def note(what):
    with open(${JSON.stringify(log)}, "a") as f:
        f.write("%s %f\\n" % (what, time.time()))
collectd.register_init(lambda: note("init"))
collectd.register_read(lambda: note("fast"), 0.1, name="fast")
collectd.register_read(lambda: note("slow"), 0.5, name="slow")
collectd.register_shutdown(lambda: note("shutdown"))
`,
    );
    const src = await make({ import: ['life'] });
    // Waits for reads rather than for a fixed time: a loaded machine may start the child late.
    const read = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []).map((l) => l.split(' '));
    await waitFor('four slow reads', () => read().filter(([w]) => w === 'slow').length >= 4);
    await src.shutdown();
    const lines = read();
    const names = lines.map(([w]) => w);
    expect(names[0]).toBe('init');
    expect(names.at(-1)).toBe('shutdown');
    expect(names.filter((l) => l === 'init')).toHaveLength(1);
    // The intervals, from the times the callbacks wrote: the median gap between two reads of one
    // callback is its interval (never shorter; longer only by scheduling delay).
    const timesOf = (name: string): number[] => lines.filter(([w]) => w === name).map(([, at]) => Number(at));
    const medianGap = (t: number[]): number => {
      const gaps = t
        .slice(1)
        .map((x, i) => x - t[i]!)
        .sort((a, b) => a - b);
      return gaps[Math.floor(gaps.length / 2)]!;
    };
    const fast = timesOf('fast');
    const slow = timesOf('slow');
    expect(medianGap(fast)).toBeGreaterThanOrEqual(0.09);
    expect(medianGap(fast)).toBeLessThan(0.2);
    expect(medianGap(slow)).toBeGreaterThanOrEqual(0.49);
    expect(medianGap(slow)).toBeLessThan(0.7);
    // Neither callback delays the other: in the slow reads' span the fast one ran about 5 times as often.
    const inSpan = fast.filter((at) => at >= slow[0]! && at <= slow.at(-1)!).length;
    expect(inSpan / (slow.length - 1)).toBeGreaterThan(3);
  });

  it('retries a read callback that raises with a doubling interval and fails the probe with its exception', async () => {
    const log = path.join(tmp.dir, 'fail.log');
    plugin(
      'failing',
      `import collectd, time
def read():
    with open(${JSON.stringify(log)}, "a") as f:
        f.write("%f\\n" % time.time())
    raise ValueError("no database")
collectd.register_read(read, 0.1)
`,
    );
    const { log: logger, lines } = capturingLog();
    const src = await make({ import: ['failing'] }, logger);
    const msg = await errorMatching(src, /no database/);
    expect(msg).toMatch(
      /Unhandled python exception in read callback python\.failing: ValueError: no database; read-function of plugin `python\.failing' failed\. Will suspend it for 0\.200 seconds\./,
    );
    await waitFor('four attempts', () => existsSync(log) && readFileSync(log, 'utf8').trim().split('\n').length >= 4);
    // As collectd: suspended for 0.2, 0.4, 0.8 s, twice as long after each failure.
    const suspended = lines.map((l) => / Will suspend it for ([\d.]+) seconds/.exec(l)?.[1]).filter(Boolean);
    expect(suspended.slice(0, 3)).toEqual(['0.200', '0.400', '0.800']);
    // And the calls are that far apart (at least; a loaded machine may wake the child late).
    const times = readFileSync(log, 'utf8').trim().split('\n').map(Number);
    const gaps = times.slice(1, 4).map((t, i) => t - times[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(0.19);
    expect(gaps[1]).toBeGreaterThanOrEqual(0.39);
    expect(gaps[2]).toBeGreaterThanOrEqual(0.79);
    expect(gaps[2]).toBeLessThan(2);
  });

  it('logs the full trace with logTraces', async () => {
    plugin('traced', `import collectd\ndef read():\n    raise KeyError("k")\ncollectd.register_read(read, 0.1)\n`);
    const src = await make({ import: ['traced'], logTraces: true });
    const msg = await errorMatching(src, /KeyError/);
    expect(msg).toMatch(/Traceback \(most recent call last\):[\s\S]*traced\.py", line 3, in read/);
  });

  it('passes collectd.info/warning/error to the log, and dispatched notifications to ctx.notify with all their fields', async () => {
    plugin(
      'talk',
      `import collectd
collectd.info("hello info")
collectd.error("hello error")
def init():
    collectd.Notification(plugin="talk", plugin_instance="p", type="df", type_instance="x", message="disk full", severity=collectd.NOTIF_WARNING,
                          time=1700000000.25, meta={"unit": "bytes", "limit": 5, "bad": float("nan")}).dispatch()
    collectd.Notification(message="fine again", severity=collectd.NOTIF_OKAY).dispatch()
collectd.register_init(init)
`,
    );
    const { log, lines } = capturingLog();
    const src = await make({ import: ['talk'] }, log);
    const got: NotificationInput[] = [];
    await waitFor('the notifications', async () => {
      await tryProbeWith(src, got);
      return got.length >= 2;
    });
    expect(lines.find((l) => l.includes('hello info'))).toMatch(/info/i);
    expect(lines.find((l) => l.includes('hello error'))).toMatch(/error/i);
    expect(got[0]).toEqual({
      severity: 'warning',
      message: 'disk full',
      time: 1700000000250,
      host: 'testhost',
      plugin: 'talk',
      pluginInstance: 'p',
      type: 'df',
      typeInstance: 'x',
      meta: { unit: 'bytes', limit: 5 },
    });
    expect(got[1]).toMatchObject({ severity: 'okay', message: 'fine again', host: 'testhost', plugin: 'python' });
    expect(got[1]!.type).toBeUndefined();
    // Handed on once: the next probe has none.
    const more: NotificationInput[] = [];
    await tryProbeWith(src, more);
    expect(more).toEqual([]);
  });
});

async function tryProbeWith(src: CollectdPythonSource, notifications: NotificationInput[]): Promise<void> {
  try {
    await probeOnce(src, { notifications });
  } catch {
    // a probe may fail while the child starts; the notifications are what this waits for
  }
}

describe.skipIf(!python)('CollectdPython: a bad plugin fails its source only, and the child is restarted', () => {
  it('keeps the protocol when a plugin prints to stdout, from Python or straight to fd 1', async () => {
    plugin(
      'noisy',
      `import collectd, os, sys
def read():
    print('{"t":"values","host":"evil","plugin":"x","plugin_instance":"","type":"gauge","type_instance":"","time":0,"interval":1,"values":[666],"dsnames":["value"],"dstypes":["gauge"]}')
    sys.stdout.flush()
    os.write(1, b"\\x00\\xff binary to fd 1\\n")
    collectd.Values(plugin='noisy', type='gauge').dispatch(values=[1])
collectd.register_read(read, 0.1)
`,
    );
    const src = await make({ import: ['noisy'] });
    await new Promise((r) => setTimeout(r, 500));
    const s = await probeOnce(src); // no protocol error
    expect(s).toEqual([{ name: 'noisy.gauge', value: 1, type: 'gauge', labels: { host: 'testhost' } }]);
  });

  it('takes values that plugins dispatch from their own threads, many at once', async () => {
    plugin(
      'threads',
      `import collectd, threading
def work(t):
    for i in range(200):
        collectd.Values(plugin='threads', plugin_instance=str(t), type='gauge', type_instance=str(i)).dispatch(values=[t * 1000 + i])
def read():
    ts = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for x in ts: x.start()
    for x in ts: x.join()
collectd.register_read(read, 30)
`,
    );
    const src = await make({ import: ['threads'] });
    const s = await probeOnce(src);
    expect(s).toHaveLength(1600);
    expect(s.every((x) => x.value === Number(x.labels!['plugin_instance']) * 1000 + Number(x.labels!['type_instance']))).toBe(true);
  });

  it('reports a module that cannot be imported and restarts the child with backoff', async () => {
    const starts = path.join(tmp.dir, 'missing.starts');
    plugin('needs_missing', `with open(${JSON.stringify(starts)}, "a") as f:\n    f.write("start\\n")\nimport collectd\nimport no_such_module_here\n`);
    const src = await make({ import: ['needs_missing'] });
    const first = await errorMatching(src, /restarting/);
    expect(first).toMatch(
      /Unhandled python exception in importing module needs_missing: ModuleNotFoundError: No module named 'no_such_module_here'; restarting in 1 s/,
    );
    const second = await errorMatching(src, /restarting in 2 s/, 5000);
    expect(second).toMatch(/No module named 'no_such_module_here'/);
    expect(readFileSync(starts, 'utf8')).toBe('start\nstart\n');
  });

  it('kills a callback that hangs after callbackTimeout and restarts the child', async () => {
    const starts = path.join(tmp.dir, 'hang.starts');
    plugin(
      'hang',
      `import collectd, time
with open(${JSON.stringify(starts)}, "a") as f:
    f.write("start\\n")
def read():
    time.sleep(3600)
collectd.register_read(read, 0.1)
`,
    );
    const src = await make({ import: ['hang'], callbackTimeout: 0.5 });
    const msg = await errorMatching(src, /ran for more than/);
    expect(msg).toMatch(/^the read callback python\.hang ran for more than 0\.5 s: the python child was killed; restarting in 1 s/);
    await waitFor('a second child', () => readFileSync(starts, 'utf8').split('\n').length > 2, 5000);
  });

  it('kills a module that hangs at import the same way', async () => {
    plugin('hangimport', `import time\ntime.sleep(3600)\n`);
    const src = await make({ import: ['hangimport'], callbackTimeout: 0.5 });
    const msg = await errorMatching(src, /ran for more than/);
    expect(msg).toMatch(/^importing module hangimport ran for more than 0\.5 s: the python child was killed; restarting in 1 s/);
  });

  it('reports an interpreter that crashes, and restarts it', async () => {
    const starts = path.join(tmp.dir, 'crash.starts');
    plugin(
      'crash',
      `import collectd, os
with open(${JSON.stringify(starts)}, "a") as f:
    f.write("start\\n")
def read():
    os.abort()
collectd.register_read(read, 0.1)
`,
    );
    const src = await make({ import: ['crash'] });
    const msg = await errorMatching(src, /SIGABRT/);
    // The child is named by the configured interpreter; the rest as before, in the same order.
    const prefix = `python child ended: ${python3()} was killed by SIGABRT`;
    expect(msg.startsWith(prefix), msg).toBe(true);
    expect(msg.slice(prefix.length)).toMatch(/^.*; restarting in 1 s/);
    await waitFor('a second child', () => readFileSync(starts, 'utf8').split('\n').length > 2, 5000);
  });

  it('fails the source when its config callback raises', async () => {
    plugin('badconf', `import collectd\ndef config(c):\n    raise ValueError("Host is required")\ncollectd.register_config(config)\n`);
    const src = await make({ import: ['badconf'], modules: { badconf: {} } });
    const msg = await errorMatching(src, /Host is required/);
    expect(msg).toMatch(/config callback python\.badconf: ValueError: Host is required; restarting in/);
  });

  it('warns about a module block no plugin registered a config callback for, as collectd does', async () => {
    plugin('noconf', `import collectd\n`);
    const { log, lines } = capturingLog();
    await make({ import: ['noconf'], modules: { other: { A: 1 } } }, log);
    await waitFor('the warning', () => lines.some((l) => l.includes('Found a configuration for the "other" plugin')));
  });

  it('drops a series that is not dispatched again for two intervals', async () => {
    const flag = path.join(tmp.dir, 'stop-dispatching');
    plugin(
      'stops',
      `import collectd, os
def read():
    if not os.path.exists(${JSON.stringify(flag)}):
        collectd.Values(plugin='stops', type='gauge', interval=0.2).dispatch(values=[1])
collectd.register_read(read, 0.1)
`,
    );
    const src = await make({ import: ['stops'], interval: 0.1 });
    await samplesWith(src, 'stops.gauge');
    writeFileSync(flag, '');
    await waitFor('the series to go', async () => {
      const s = await probeOnce(src);
      return s.length === 0 || undefined;
    });
  });

  it('starts no child for --check, and a missing interpreter fails init', async () => {
    const src = build(CollectdPythonSource, { import: ['x'], python: 'no-such-python3' }, { configDir: tmp.dir });
    expect(src['runner']).toBeUndefined();
    await expect(src.init({ log: quietLog, tickTime: 10, configDir: tmp.dir, signal: AbortSignal.timeout(5000) })).rejects.toThrow(
      /no-such-python3: command not found/,
    );
  });
});

describe.skipIf(!python)('CollectdPython: the hostname', () => {
  it("defaults to this machine's name", async () => {
    plugin('host', `import collectd\ncollectd.register_read(lambda: collectd.Values(plugin='h', type='gauge').dispatch(values=[1]), 0.1)\n`);
    const src = build(CollectdPythonSource, { import: ['host'], modulePath: 'plugins' }, { configDir: tmp.dir });
    await src.init({ log: quietLog, tickTime: 10, configDir: tmp.dir, signal: AbortSignal.timeout(10_000) });
    started.push(src);
    const s = await samplesWith(src, 'h.gauge');
    expect(s[0]!.labels).toEqual({ host: os.hostname() });
  });
});

describe.skipIf(!python)('CollectdPython: the other callbacks', () => {
  it('hands dispatched values to write callbacks, log lines to log callbacks, notifications, flush, and unregisters', async () => {
    const out = path.join(tmp.dir, 'callbacks.json');
    plugin(
      'callbacks',
      `import collectd, json
got = {"write": [], "log": [], "notification": [], "flush": []}
${DUMP}
def save():
    dump(got, ${JSON.stringify(out)})
collectd.register_write(lambda vl, data: got["write"].append([data, vl.plugin, vl.type, vl.host, list(vl.values), vl.time > 0]), "w")
collectd.register_log(lambda sev, msg: got["log"].append([sev, msg]))
collectd.register_notification(lambda n: got["notification"].append([n.severity, n.message, n.plugin]))
collectd.register_flush(lambda timeout, ident: got["flush"].append([timeout, ident]), name="fl")
def gone(vl):
    got["write"].append("unregistered, yet called")
collectd.register_write(gone, name="gone")
collectd.unregister_write("python.gone")
def read():
    collectd.Values(type="if_octets").dispatch(values=[1.9, 2])
    collectd.notice("a notice")
    collectd.Notification(message="m", severity=collectd.NOTIF_OKAY).dispatch()
    collectd.flush()
    collectd.flush(plugin="fl", timeout=5, identifier="x/y/z")
    collectd.unregister_read(read)
    save()
collectd.register_read(read, 0.1)
`,
    );
    await make({ import: ['callbacks'] });
    const got = await waitFor('the read callback', () => existsSync(out) && JSON.parse(readFileSync(out, 'utf8')));
    expect(got).toEqual({
      // Data sources of type DERIVE are integers, as collectd hands them over.
      write: [['w', 'python', 'if_octets', 'testhost', [1, 2], true]],
      log: [[5, 'a notice']],
      notification: [[4, 'm', 'python']],
      flush: [
        [-1, null],
        [5, 'x/y/z'],
      ],
    });
  });
});

describe.skipIf(!python)('CollectdPython from the built launcher', () => {
  it('runs with pollect --once --dry-run, collectd.py found from dist/ in the shipped src/', () => {
    plugin('once', `import collectd\ncollectd.register_read(lambda: collectd.Values(plugin='once', type='gauge').dispatch(values=[7]))\n`);
    const config = path.join(tmp.dir, 'once.json');
    writeFileSync(
      config,
      JSON.stringify({
        executors: [
          {
            collection: 'c',
            tickTime: 10,
            sources: [{ type: 'CollectdPython', modulePath: 'plugins', import: ['once'], hostname: 'h' }],
            writers: [{ type: 'DryRun' }],
          },
        ],
      }),
    );
    const r = spawnCli(['-c', config, '--once', '--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^c\.CollectdPython\.once\.gauge\{host="h"\} 7 \d+$/m);
    expect(r.code).toBe(0);
  });

  it('fails only the source whose plugin is broken', () => {
    plugin('good', `import collectd\ncollectd.register_read(lambda: collectd.Values(plugin='good', type='gauge').dispatch(values=[1]))\n`);
    plugin('broken', `import collectd, os\ncollectd.register_read(lambda: os.abort())\n`);
    const config = path.join(tmp.dir, 'two.json');
    const source = (name: string) => ({ type: 'CollectdPython', name, modulePath: 'plugins', import: [name], hostname: 'h', timeout: 3 });
    writeFileSync(
      config,
      JSON.stringify({ executors: [{ collection: 'c', tickTime: 10, sources: [source('good'), source('broken')], writers: [{ type: 'DryRun' }] }] }),
    );
    const r = spawnCli(['-c', config, '--once', '--dry-run']);
    expect(r.stdout).toMatch(/^c\.CollectdPython\.good\.good\.gauge\{host="h"\} 1 \d+$/m);
    expect(r.stdout).not.toMatch(/broken\./);
    expect(r.stderr).toMatch(/CollectdPython\.broken.*python child ended: python3 was killed by SIGABRT/);
    expect(r.code).toBe(1);
  });
});

describe('CollectdPython README', () => {
  it('has examples the schema accepts', () => {
    const examples = readmeExamples('collectd-python');
    expect(examples.length).toBeGreaterThan(0);
    for (const ex of examples) expect(paramProblems(CollectdPythonSource.schema, 'CollectdPython', ex)).toEqual([]);
  });
});
