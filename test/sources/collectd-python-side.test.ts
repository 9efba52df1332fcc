// Side by side: Debian's collectd (collectd-core: python.so, csv.so) and pollect's CollectdPython run
// the same plugin with the same config; collectd writes CSV files. The identifiers collectd writes
// and the names and labels pollect reports must map onto each other as the README says, with the
// same values for the same read.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CollectdPythonSource } from '../../src/sources/collectd-python/index.js';
import { probeOnce, quietLog } from '../helpers/probe.js';
import { tempDir } from '../helpers/net.js';
import { build } from '../helpers/plugin.js';
import { needs } from '../helpers/servers.js';
import { collectdConf, identifiers, moduleBlock, startCollectd, waitForCsv } from '../helpers/collectd-side.js';

/** The example of collectd-python(5), made deterministic: read n dispatches 1.5·n, and n, 2n as if_octets. */
const SPAM = `import collectd
n = [0]
conf = {}
def config(c):
    for ch in c.children:
        conf[ch.key] = ch.values
def read(data=None):
    n[0] += 1
    vl = collectd.Values(type='gauge')
    vl.plugin='python.spam'
    vl.dispatch(values=[n[0] * 1.5])
    collectd.Values(plugin='spam', plugin_instance=str(conf['Instance'][0]), type='if_octets', type_instance='eth0').dispatch(values=[n[0], 2 * n[0]])
    collectd.Values(plugin='spam', type='load').dispatch(values=[n[0] % 2, conf['Weight'][0], 0.25])
collectd.register_config(config)
collectd.register_read(read)
`;

/** A plugin of another shape: <Node "name"> blocks in its config, one named read callback per node, plugin instances. */
const NODES = `import collectd, json, os
def walk(c):
    return {"key": c.key, "values": [[type(v).__name__, v] for v in c.values], "children": [walk(k) for k in c.children],
            "parent": None if c.parent is None else c.parent.key}
def make_read(name, scale):
    def read():
        collectd.Values(plugin='nodes', plugin_instance=name, type='if_octets').dispatch(values=[scale, 7])
        collectd.Values(plugin='nodes', plugin_instance=name, type='percent', type_instance='used').dispatch(values=[scale / 3])
    return read
def config(c):
    with open(os.path.join(os.path.dirname(__file__), '..', 'config-%d.json' % os.getpid()), 'w') as f:
        json.dump(walk(c), f)
    for node in c.children:
        if node.key == 'Node':
            opts = dict((k.key, k.values) for k in node.children)
            collectd.register_read(make_read(node.values[0], opts['Scale'][0]), name=node.values[0])
collectd.register_config(config)
`;

describe.skipIf(!needs('collectd', 'python3'))('CollectdPython side by side with collectd', () => {
  let tmp: ReturnType<typeof tempDir>;
  let collectd: ChildProcess | undefined;
  let source: CollectdPythonSource | undefined;

  beforeAll(() => {
    tmp = tempDir('pollect-collectd-side-');
    mkdirSync(path.join(tmp.dir, 'plugins'));
    mkdirSync(path.join(tmp.dir, 'csv'));
    writeFileSync(path.join(tmp.dir, 'plugins', 'spam.py'), SPAM);
    writeFileSync(path.join(tmp.dir, 'plugins', 'nodes.py'), NODES);
  });
  afterEach(async () => {
    collectd?.kill('SIGTERM');
    await source?.shutdown();
  });
  afterAll(() => tmp.remove());

  it('runs the documentation example: same identifiers, same values read by read', async () => {
    const conf = path.join(tmp.dir, 'collectd.conf');
    writeFileSync(conf, collectdConf(tmp.dir, ['spam'], moduleBlock('spam', '    Instance "db1"\n    Weight 2.5')));
    let stderr: () => string;
    ({ proc: collectd, stderr } = startCollectd(tmp.dir, conf));

    source = build(
      CollectdPythonSource,
      { modulePath: 'plugins', import: ['spam'], hostname: 'side', interval: 1, modules: { spam: { Instance: 'db1', Weight: 2.5 } } },
      { configDir: tmp.dir },
    );
    await source.init({ log: quietLog, tickTime: 10, configDir: tmp.dir, signal: AbortSignal.timeout(10_000) });

    // pollect: a probe after each of three reads (the gauge tells which read it was).
    const snapshots = new Map<number, Map<string, Record<string, number>>>();
    const until = Date.now() + 15_000;
    while (snapshots.size < 3 && Date.now() < until) {
      const ids = identifiers(await probeOnce(source), { if_octets: ['rx', 'tx'], load: ['shortterm', 'midterm', 'longterm'] });
      const read = ids.get('side/python.spam/gauge')?.['value'];
      if (read !== undefined) snapshots.set(read / 1.5, ids);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(snapshots.size).toBe(3);

    // collectd: wait until its CSV files hold the same reads.
    const reads = [...snapshots.keys()];
    const csv = await waitForCsv(path.join(tmp.dir, 'csv'), (c) => c.size === 3 && [...c.values()].every((rows) => rows.length >= Math.max(...reads)));
    expect([...csv.keys()].sort(), stderr()).toEqual(['side/python.spam/gauge', 'side/spam-db1/if_octets-eth0', 'side/spam/load']);
    for (const [n, ids] of snapshots) {
      expect([...ids.keys()].sort()).toEqual([...csv.keys()].sort());
      for (const [id, rows] of csv) expect(ids.get(id), `read ${n}, ${id}`).toEqual(rows[n - 1]!.values);
    }
    // collectd's type of each data source becomes pollect's metric type.
    const samples = await probeOnce(source);
    expect(Object.fromEntries(samples.map((s) => [s.name, s.type]))).toEqual({
      'python.spam.gauge': 'gauge',
      'spam.if_octets.rx': 'counter',
      'spam.if_octets.tx': 'counter',
      'spam.load.shortterm': 'gauge',
      'spam.load.midterm': 'gauge',
      'spam.load.longterm': 'gauge',
    });
  }, 40_000);

  it('hands a config with blocks the same Config as collectd, and names named reads per plugin instance alike', async () => {
    const dir = path.join(tmp.dir, 'nodes');
    mkdirSync(path.join(dir, 'csv'), { recursive: true });
    mkdirSync(path.join(dir, 'plugins'));
    writeFileSync(path.join(dir, 'plugins', 'nodes.py'), NODES);
    const conf = path.join(dir, 'collectd.conf');
    writeFileSync(
      conf,
      collectdConf(
        dir,
        ['nodes'],
        moduleBlock('nodes', '    <Node "a">\n      Scale 10\n    </Node>\n    <Node "b">\n      Scale 300\n      Tags "x" "y"\n    </Node>\n    Enabled true'),
      ),
    );
    let stderr: () => string;
    ({ proc: collectd, stderr } = startCollectd(dir, conf));
    source = build(
      CollectdPythonSource,
      {
        modulePath: 'plugins',
        import: ['nodes'],
        hostname: 'side',
        modules: {
          nodes: {
            Node: [
              { $values: ['a'], Scale: 10 },
              { $values: ['b'], Scale: 300, Tags: ['x', 'y'] },
            ],
            Enabled: true,
          },
        },
      },
      { configDir: dir },
    );
    await source.init({ log: quietLog, tickTime: 10, configDir: dir, signal: AbortSignal.timeout(10_000) });
    const ids = identifiers(await probeOnce(source), { if_octets: ['rx', 'tx'] });

    const csv = await waitForCsv(path.join(dir, 'csv'), (c) => c.size === 4 && [...c.values()].every((rows) => rows.length >= 1));
    expect([...csv.keys()].sort(), stderr()).toEqual([
      'side/nodes-a/if_octets',
      'side/nodes-a/percent-used',
      'side/nodes-b/if_octets',
      'side/nodes-b/percent-used',
    ]);
    expect([...ids.keys()].sort()).toEqual([...csv.keys()].sort());
    // CSV keeps 6 decimals of a gauge.
    for (const [id, rows] of csv) {
      const mine = ids.get(id)!;
      for (const [ds, v] of Object.entries(rows[0]!.values)) expect(mine[ds], `${id} ${ds}`).toBeCloseTo(v, 6);
    }

    // The Config each got, dumped by the plugin in each process: the same tree, the same value types.
    const dumps = readdirSync(dir).filter((f) => /^config-\d+\.json$/.test(f));
    expect(dumps).toHaveLength(2);
    const [theirs, ours] = dumps.map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as unknown);
    expect(ours).toEqual(theirs);
    expect(theirs).toMatchObject({ key: 'Module', values: [['str', 'nodes']], parent: null });
  }, 40_000);
});
