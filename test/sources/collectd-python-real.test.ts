// Side by side with Debian's collectd, as collectd-python-side.test.ts, on real published collectd
// Python plugins, vendored unmodified in test/fixtures/collectd-plugins/ (its README names each one's
// source, commit, licence and shape). collectd (python.so, csv) and pollect's CollectdPython run each
// plugin with the same config; the identifiers collectd writes and the values of the same reads must
// agree with what pollect reports.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import { CollectdPythonSource } from '../../src/sources/collectd-python/index.js';
import { probeOnce, quietLog } from '../helpers/probe.js';
import { tempDir } from '../helpers/net.js';
import { build, type ParamsOf } from '../helpers/plugin.js';
import { needs, python3 } from '../helpers/servers.js';
import { collectdConf, identifiers, moduleBlock, startCollectd, waitForCsv, type Row } from '../helpers/collectd-side.js';

const FIXTURES = path.join(__dirname, '../fixtures/collectd-plugins');

/** The data-source names of every type in a types.db file. */
function dsNamesOf(file: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [type, rest] = line.trim().split(/\s+(.*)/s);
    if (type && rest && !type.startsWith('#')) out[type] = rest.split(',').map((d) => d.trim().split(':')[0]!);
  }
  return out;
}

/** The last row of every identifier's CSV file. */
function lastRows(csv: Map<string, Row[]>): Map<string, Record<string, number>> {
  return new Map([...csv].filter(([, rows]) => rows.length > 0).map(([id, rows]) => [id, rows.at(-1)!.values]));
}

/** collectd creates an identifier's CSV file (its header) a moment before it writes the first row. */
function everyHasRow(csv: Map<string, Row[]>): boolean {
  return [...csv.values()].every((rows) => rows.length > 0);
}

/** Same identifiers, same data sources and values (collectd's CSV keeps 6 decimals of a gauge). */
function expectSame(mine: Map<string, Record<string, number>>, theirs: Map<string, Record<string, number>>): void {
  expect([...mine.keys()].sort()).toEqual([...theirs.keys()].sort());
  for (const [id, values] of theirs) {
    expect(Object.keys(mine.get(id)!).sort(), id).toEqual(Object.keys(values).sort());
    for (const [ds, v] of Object.entries(values)) expect(mine.get(id)![ds], `${id} ${ds}`).toBeCloseTo(v, 6);
  }
}

describe.skipIf(!needs('collectd', 'python3'))('CollectdPython side by side with collectd on published plugins', () => {
  let tmp: ReturnType<typeof tempDir>;
  let collectd: ChildProcess | undefined;
  let source: CollectdPythonSource | undefined;
  const servers: Server[] = [];

  beforeAll(() => {
    tmp = tempDir('pollect-collectd-real-');
  });
  afterEach(async () => {
    collectd?.kill('SIGTERM');
    collectd = undefined;
    await source?.shutdown();
    source = undefined;
    for (const s of servers.splice(0)) s.close();
  });
  afterAll(() => tmp.remove());

  /** A folder with the plugin's files in plugins/ (copied, so Python's bytecode stays out of the tree) and csv/. */
  function setup(fixture: string): string {
    const dir = path.join(tmp.dir, fixture);
    mkdirSync(path.join(dir, 'csv'), { recursive: true });
    cpSync(path.join(FIXTURES, fixture), path.join(dir, 'plugins'), { recursive: true });
    return dir;
  }

  /** collectd on the plugins `imports` and their <Module> blocks, in `dir`; returns what it logs. */
  function runCollectd(dir: string, imports: string[], modules: string, typesDb: string[] = []): () => string {
    const conf = path.join(dir, 'collectd.conf');
    writeFileSync(conf, collectdConf(dir, imports, modules, typesDb));
    const run = startCollectd(dir, conf);
    collectd = run.proc;
    return run.stderr;
  }

  /** pollect's source on the same plugins, in `dir`, once it has started them. */
  async function runPollect(dir: string, imports: string[], params: ParamsOf<typeof CollectdPythonSource>): Promise<CollectdPythonSource> {
    source = build(CollectdPythonSource, { modulePath: 'plugins', import: imports, hostname: 'side', python: python3(), ...params }, { configDir: dir });
    await source.init({ log: quietLog, tickTime: 10, configDir: dir, signal: AbortSignal.timeout(10_000) });
    return source;
  }

  it('Ferroin/collectd-python-plugins: multi-value types of its own types.db, read from /proc in an init-registered read', async () => {
    const dir = setup('ferroin');
    const typesDb = path.join(dir, 'plugins', 'types.db');
    const IDS = ['side/interrupts/linux_interrupts', 'side/softirqs/linux_softirqs'];
    const csvDir = path.join(dir, 'csv');
    // collectd first, and pollect once collectd has read: pollect's read then falls between two of collectd's.
    const imports = ['linux_softirqs', 'linux_interrupts'];
    const stderr = runCollectd(dir, imports, '', [typesDb]);
    let csv = await waitForCsv(csvDir, (c) => IDS.every((id) => (c.get(id)?.length ?? 0) >= 1));
    expect([...csv.keys()].sort(), stderr()).toEqual(IDS);
    const pollect = await runPollect(dir, imports, { interval: 1, typesDb: ['/usr/share/collectd/types.db', 'plugins/types.db'] });
    const samples = await probeOnce(pollect);
    const probed = Date.now() / 1000;
    const mine = identifiers(samples, dsNamesOf(typesDb));
    csv = await waitForCsv(csvDir, (c) => IDS.every((id) => c.get(id)!.some((r) => r.time > probed)));

    // The counters are live (the kernel's, summed over CPUs), so the two daemons never read the
    // same numbers. What still pins every value to its data source: pollect read once between two of
    // collectd's reads, and counters only grow, so each of its values lies between collectd's two
    // rows around that moment, for every data source at once. A value under the wrong name, or
    // shifted by one data source, leaves that interval.
    expect([...mine.keys()].sort()).toEqual(IDS);
    for (const id of IDS) {
      const rows = csv.get(id)!;
      expect(Object.keys(mine.get(id)!)).toEqual(Object.keys(rows[0]!.values));
      const between = rows.slice(1).some((next, k) => Object.entries(mine.get(id)!).every(([ds, v]) => rows[k]!.values[ds]! <= v && v <= next.values[ds]!));
      expect(between, `${id}: ${JSON.stringify(mine.get(id))} not between two of ${JSON.stringify(rows.map((r) => r.values))}`).toBe(true);
    }
    expect(new Set(samples.map((s) => s.type))).toEqual(new Set(['counter']));
  }, 40_000);

  it('signalfx/collectd-zookeeper: plugin instances from two <Module> blocks, over the four-letter-word protocol', async () => {
    const dir = setup('zookeeper');
    // A ZooKeeper's client port as the plugin uses it: one four-letter word per connection, the
    // answer, then the server closes. The mntr answers are the ZooKeeper Administrator's Guide example.
    const zk = async (mntr: string): Promise<number> => {
      const answers: Record<string, string> = { ruok: 'imok', mntr: readFileSync(path.join(FIXTURES, 'zookeeper', mntr), 'utf8') };
      const server = createServer({ allowHalfOpen: true }, (socket) => {
        let word = '';
        socket.on('data', (d: Buffer) => {
          word += d.toString();
          if (word.length >= 4) socket.end(answers[word.slice(0, 4)] ?? '');
        });
        socket.on('error', () => {});
      });
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as AddressInfo).port;
    };
    const leader = await zk('mntr-leader.txt');
    const follower = await zk('mntr-follower.txt');
    // As the plugin's README: a block without Instance, and one more block per server.
    const stderr = runCollectd(
      dir,
      ['zk-collectd'],
      moduleBlock('"zk-collectd"', `    Hosts "127.0.0.1"\n    Port ${leader}`) +
        moduleBlock('"zk-collectd"', `    Hosts "127.0.0.1"\n    Port ${follower}\n    Instance "dev"`),
    );
    const pollect = await runPollect(dir, ['zk-collectd'], {
      modules: {
        'zk-collectd': [
          { Hosts: '127.0.0.1', Port: leader },
          { Hosts: '127.0.0.1', Port: follower, Instance: 'dev' },
        ],
      },
    });
    const samples = await probeOnce(pollect);
    const mine = identifiers(samples, {});
    // 17 values of the leader (its mntr lines but the version, plus health and leadership), 14 of the follower.
    const csv = await waitForCsv(path.join(dir, 'csv'), (c) => c.size >= 31 && everyHasRow(c));
    expect(csv.size, stderr()).toBe(31);
    expectSame(mine, lastRows(csv));
    expect(mine.get('side/zookeeper-[zk_version=3.4.0]/counter-zk_packets_received')).toEqual({ value: 70 });
    expect(mine.get('side/zookeeper-[zk_version=3.4.0]/gauge-zk_avg_latency')).toEqual({ value: 0.7561 });
    expect(mine.get('side/zookeeper-[zk_version=3.4.0]/gauge-zk_followers')).toEqual({ value: 4 });
    expect(mine.get('side/zookeeper-dev[zk_version=3.4.0]/gauge-zk_is_leader')).toEqual({ value: 0 });
    expect(mine.has('side/zookeeper-dev[zk_version=3.4.0]/gauge-zk_followers')).toBe(false);
    const counters = samples.filter((s) => s.type === 'counter').map((s) => `${s.labels?.['plugin_instance']} ${s.labels?.['type_instance']}`);
    expect(counters.sort()).toEqual([
      '[zk_version=3.4.0] zk_packets_received',
      '[zk_version=3.4.0] zk_packets_sent',
      'dev[zk_version=3.4.0] zk_packets_received',
      'dev[zk_version=3.4.0] zk_packets_sent',
    ]);
  }, 40_000);

  it('mwtzzz-zz/collectd-readfiles-python: lists as config values, its own read interval, dispatches from threads', async () => {
    const dir = setup('readfiles');
    const file = (f: string) => path.join(dir, 'data', f);
    mkdirSync(path.join(dir, 'data', 'eth0'), { recursive: true });
    mkdirSync(path.join(dir, 'data', 'room'));
    // Each file replaced whole (a rename), so no read sees it half written.
    const write = (rx: number, tx: number, temp: number, humidity: number) => {
      for (const [f, v] of [
        ['eth0/rx_bytes', rx],
        ['eth0/tx_bytes', tx],
        ['room/temp', temp],
        ['room/humidity', humidity],
      ] as const) {
        writeFileSync(`${file(f)}.new`, `${v}\n`);
        renameSync(`${file(f)}.new`, file(f));
      }
    };
    write(1000, 2000, 21.5, 40.25);
    const derive = [file('eth0/rx_bytes'), file('eth0/tx_bytes')];
    const gauge = [file('room/temp'), file('room/humidity')];
    const stderr = runCollectd(
      dir,
      ['collectd_readfiles_python'],
      moduleBlock(
        'collectd_readfiles_python',
        `    DeriveMetricFiles ${derive.map((f) => `"${f}"`).join(' ')}\n    GaugeMetricFiles ${gauge.map((f) => `"${f}"`).join(' ')}\n    Interval 1\n    PluginName "files"\n    Verbose false`,
      ),
    );
    const pollect = await runPollect(dir, ['collectd_readfiles_python'], {
      modules: { collectd_readfiles_python: { DeriveMetricFiles: derive, GaugeMetricFiles: gauge, Interval: 1, PluginName: 'files', Verbose: false } },
    });
    const IDS = ['side/files-eth0/derive-rx_bytes', 'side/files-eth0/derive-tx_bytes', 'side/files-room/gauge-humidity', 'side/files-room/gauge-temp'];

    // Read by read: both report the files' values, and the new ones once the files change.
    const csvDir = path.join(dir, 'csv');
    const reported = async (done: (ids: Map<string, Record<string, number>>) => boolean) => {
      let ids = new Map<string, Record<string, number>>();
      for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
        ids = identifiers(await probeOnce(pollect), {});
        if (done(ids)) break;
      }
      return ids;
    };
    const first = await reported((ids) => ids.size === 4);
    const firstCsv = lastRows(await waitForCsv(csvDir, (c) => c.size === 4 && everyHasRow(c)));
    expect([...firstCsv.keys()].sort(), stderr()).toEqual(IDS);
    expectSame(first, firstCsv);
    expect(first.get('side/files-room/gauge-humidity')).toEqual({ value: 40.25 });

    write(1500, 2600, 22.75, 41.5);
    const changed = (before: Map<string, Record<string, number>>) => (now: Map<string, Record<string, number>>) =>
      IDS.every((id) => now.get(id)?.['value'] !== before.get(id)!['value']);
    const second = await reported(changed(first));
    const secondCsv = lastRows(await waitForCsv(csvDir, (c) => changed(firstCsv)(lastRows(c))));
    expectSame(second, secondCsv);
    expect(second.get('side/files-eth0/derive-tx_bytes')).toEqual({ value: 2600 });
    const samples = await probeOnce(pollect);
    expect(Object.fromEntries(samples.map((s) => [s.labels?.['type_instance'], s.type]))).toEqual({
      rx_bytes: 'counter',
      tx_bytes: 'counter',
      temp: 'gauge',
      humidity: 'gauge',
    });
  }, 40_000);
});
