// Side by side: Debian's collectd (collectd-core: python.so, csv.so) and pollect's CollectdPython run
// the same plugin with the same config; collectd writes CSV files. The identifiers collectd writes
// and the names and labels pollect reports must map onto each other as the README says, with the
// same values for the same read.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { CollectdPythonSource } from '../../src/sources/collectd-python/index.js';
import { probeOnce, quietLog } from '../helpers/probe.js';
import { tempDir } from '../helpers/net.js';
import { build } from '../helpers/plugin.js';
import { needs } from '../helpers/servers.js';
import type { Sample } from '../../src/sdk/index.js';

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

/** One row of a collectd CSV file as pollect would name it: identifier, data source, value. */
interface Row {
  id: string;
  values: Record<string, number>;
}

/** csv/<host>/<plugin[-pinst]>/<type[-tinst]>-<date>: every row, per read index (row n is read n+1). */
function readCsv(dir: string): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const host of readdirSync(dir)) {
    for (const plugin of readdirSync(path.join(dir, host))) {
      for (const file of readdirSync(path.join(dir, host, plugin))) {
        const type = file.replace(/-\d{4}-\d{2}-\d{2}$/, '');
        const [header, ...lines] = readFileSync(path.join(dir, host, plugin, file), 'utf8')
          .trim()
          .split('\n');
        const names = header!.split(',').slice(1);
        const id = `${host}/${plugin}/${type}`;
        out.set(
          id,
          lines.map((l) => ({
            id,
            values: Object.fromEntries(
              l
                .split(',')
                .slice(1)
                .map((v, i) => [names[i]!, Number(v)]),
            ),
          })),
        );
      }
    }
  }
  return out;
}

/** pollect's samples back to collectd identifiers, by the README's mapping. */
function identifiers(samples: readonly Sample[], dsNames: Record<string, string[]>): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const s of samples) {
    const l = s.labels ?? {};
    // name = <plugin>.<type>[.<ds>]: the plugin may hold dots (python.spam), the type does not.
    const parts = s.name!.split('.');
    const multi = parts.length >= 3 && dsNames[parts.at(-2)!]?.includes(parts.at(-1)!);
    const ds = multi ? parts.pop()! : 'value';
    const type = parts.pop()!;
    const plugin = parts.join('.');
    const id = `${l['host']}/${plugin}${l['plugin_instance'] ? `-${l['plugin_instance']}` : ''}/${type}${l['type_instance'] ? `-${l['type_instance']}` : ''}`;
    out.set(id, { ...out.get(id), [ds]: s.value });
  }
  return out;
}

describe.skipIf(!needs('collectd', 'python3'))('CollectdPython side by side with collectd', () => {
  let tmp: ReturnType<typeof tempDir>;
  let collectd: ChildProcess | undefined;
  let source: CollectdPythonSource | undefined;

  beforeAll(() => {
    tmp = tempDir('pollect-collectd-side-');
    mkdirSync(path.join(tmp.dir, 'plugins'));
    mkdirSync(path.join(tmp.dir, 'csv'));
    writeFileSync(path.join(tmp.dir, 'plugins', 'spam.py'), SPAM);
  });
  afterEach(async () => {
    collectd?.kill('SIGTERM');
    await source?.shutdown();
  });
  afterAll(() => tmp.remove());

  it('runs the documentation example: same identifiers, same values read by read', async () => {
    const conf = path.join(tmp.dir, 'collectd.conf');
    writeFileSync(
      conf,
      `Hostname "side"
FQDNLookup false
Interval 1
BaseDir "${tmp.dir}"
PIDFile "${tmp.dir}/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin csv
<Plugin csv>
  DataDir "${tmp.dir}/csv"
  StoreRates false
</Plugin>
<LoadPlugin python>
  Globals true
</LoadPlugin>
<Plugin python>
  ModulePath "plugins"
  Import "spam"
  <Module spam>
    Instance "db1"
    Weight 2.5
  </Module>
</Plugin>
`,
    );
    // ModulePath "plugins" is relative to collectd's working directory, as pollect's is to the config file.
    collectd = spawn('collectd', ['-f', '-C', conf], { cwd: tmp.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    collectd.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));

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
    const csvDir = path.join(tmp.dir, 'csv');
    let csv = new Map<string, Row[]>();
    while (Date.now() < until + 10_000) {
      csv = existsSync(path.join(csvDir, 'side')) ? readCsv(csvDir) : new Map();
      if (csv.size === 3 && [...csv.values()].every((rows) => rows.length >= Math.max(...reads))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect([...csv.keys()].sort(), stderr).toEqual(['side/python.spam/gauge', 'side/spam-db1/if_octets-eth0', 'side/spam/load']);
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
});
