// The Python pollect's tests/test_SnmpGetSource.py (../shared/fixtures/pollect-tests/tests/, MIT),
// ported. There, snmpget's output is mocked; here a real snmpd answers the same OIDs with the same
// types and values (a pass_persist script reads them from a file each test writes), and the
// Counter32 wrap cases run through the rate code the source uses.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import dgram from 'node:dgram';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SnmpGetSource } from '../../src/sources/snmpget/index.js';
import { T, wrapOf } from '../../src/sources/snmpget/values.js';
import { RateTracker } from '../../src/sdk/rate.js';
import { spawnDaemon, tempDir, type Daemon } from '../helpers/net.js';
import { build } from '../helpers/plugin.js';
import { probeOnce } from '../helpers/probe.js';
import { needs } from '../helpers/servers.js';

const COMMUNITY = 'pollect-compat';
const tmp = tempDir('pollect-snmp-compat-');
const values = path.join(tmp.dir, 'values');
const env = { ...process.env, MIBS: '', MIBDIRS: path.join(tmp.dir, 'nomibs'), SNMP_PERSISTENT_DIR: path.join(tmp.dir, 'persist'), SNMPCONFPATH: tmp.dir };
const haveSnmpd = needs('snmpd', 'snmpget');
let port = 0;
let snmpd: Daemon | undefined;

/** What snmpd answers: `oid type value` lines, as the mocked snmpget output of each Python test. */
function agentValues(lines: [string, 'counter' | 'string', string | number][]): void {
  writeFileSync(values, lines.map(([oid, type, v]) => `.${oid.replace(/^iso\./, '1.')} ${type} ${v}`).join('\n') + '\n');
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.on('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

beforeAll(async () => {
  if (!haveSnmpd) return;
  mkdirSync(env.MIBDIRS, { recursive: true });
  const script = path.join(tmp.dir, 'persist.sh');
  writeFileSync(
    script,
    `#!/bin/sh
while read -r cmd; do
  case "$cmd" in
    PING) echo PONG ;;
    get) read -r oid
      line=$(grep -m1 "^$oid " '${values}')
      if [ -n "$line" ]; then set -- $line; o=$1; t=$2; shift 2; echo "$o"; echo "$t"; echo "$*"; else echo NONE; fi ;;
    getnext) read -r oid; echo NONE ;;
    set) read -r oid; read -r val; echo not-writable ;;
    *) exit 0 ;;
  esac
done
`,
  );
  chmodSync(script, 0o755);
  agentValues([]);
  const conf = path.join(tmp.dir, 'snmpd.conf');
  const subtrees = ['1.3.6.1.2.1.16.1.1.1.3', '1.3.6.1.2.1.31.1.1.1.123', '1.3.6.1.2.1.31.1.1.1.18', '1.3.6.1.2.1.50.1.1.1.3'];
  writeFileSync(conf, `rocommunity ${COMMUNITY} 127.0.0.1\n${subtrees.map((s) => `pass_persist .${s} ${script}`).join('\n')}\n`);
  port = await freeUdpPort();
  snmpd = spawnDaemon('snmpd', ['-f', '-Lo', '-C', '-c', conf, `udp:127.0.0.1:${port}`], { env });
  // Ready when it answers (bounded).
  agentValues([['1.3.6.1.2.1.16.1.1.1.3.48', 'counter', 1]]);
  for (let i = 0; ; i++) {
    try {
      await probeOnce(source([{ name: 'up', oid: '1.3.6.1.2.1.16.1.1.1.3.48' }]));
      break;
    } catch {
      if (i > 50 || snmpd.child.exitCode !== null) throw new Error(`snmpd did not start: ${snmpd.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
});

afterAll(async () => {
  await snmpd?.stop();
  tmp.remove();
});

afterEach(() => {
  vi.useRealTimers();
});

function source(metrics: object[]): SnmpGetSource {
  return build(SnmpGetSource, { type: 'SnmpGet', host: `127.0.0.1:${port}`, communityString: COMMUNITY, metrics } as never);
}

describe('test_SnmpGetSource.test_overflow_delta: Counter32 wraps at 2^32', () => {
  it.each([
    [4294967295, 0, 1],
    [4294967295, 5, 6],
    [1, 5, 4],
  ])('%d then %d is a delta of %d', (before, after, delta) => {
    const rates = new RateTracker();
    rates.rate('x', before, 0, { wrap: wrapOf(T.Counter32) });
    expect(rates.rate('x', after, 1000, { wrap: wrapOf(T.Counter32) })).toBe(delta);
  });
});

describe.skipIf(!haveSnmpd)('test_SnmpGetSource against a real snmpd', () => {
  it('test_simple: a Counter32', async () => {
    agentValues([['iso.3.6.1.2.1.16.1.1.1.3.48', 'counter', 123]]);
    const data = await probeOnce(source([{ oid: 'iso.3.6.1.2.1.16.1.1.1.3.48', name: 'Test' }]));
    expect(data).toEqual([{ name: 'Test', value: 123 }]);
  });

  it('test_simple_with_label: a label from a STRING OID', async () => {
    agentValues([
      ['iso.3.6.1.2.1.16.1.1.1.3.48', 'counter', 123],
      ['iso.3.6.1.2.1.31.1.1.1.123', 'string', 'sample'],
    ]);
    const data = await probeOnce(source([{ oid: 'iso.3.6.1.2.1.16.1.1.1.3.48', oidLabels: { paramName: 'iso.3.6.1.2.1.31.1.1.1.123' }, name: 'Test' }]));
    expect(data).toEqual([{ name: 'Test', value: 123, labels: { paramName: 'sample' } }]);
  });

  it('test_range: ${randomParam} from 1 to 3', async () => {
    agentValues([
      ['iso.3.6.1.2.1.16.1.1.1.3.1', 'counter', 123],
      ['iso.3.6.1.2.1.16.1.1.1.3.2', 'counter', 10],
      ['iso.3.6.1.2.1.16.1.1.1.3.3', 'counter', 11],
    ]);
    const range = { from: 1, to: 3, label: 'randomParam' };
    const data = await probeOnce(source([{ oid: 'iso.3.6.1.2.1.16.1.1.1.3.${randomParam}', range, name: 'Test' }]));
    expect(data.map((d) => [d.name, d.labels!.randomParam, d.value])).toEqual([
      ['Test', '1', 123],
      ['Test', '2', 10],
      ['Test', '3', 11],
    ]);
  });

  it('test_range_with_labels: two ranged metrics sharing a label OID; the second has one index only', async () => {
    agentValues([
      ['iso.3.6.1.2.1.16.1.1.1.3.1', 'counter', 123],
      ['iso.3.6.1.2.1.16.1.1.1.3.2', 'counter', 10],
      ['iso.3.6.1.2.1.16.1.1.1.3.3', 'counter', 11],
      ['iso.3.6.1.2.1.50.1.1.1.3.1', 'counter', 11],
      ['iso.3.6.1.2.1.31.1.1.1.18.1', 'string', 'test name1'],
      ['iso.3.6.1.2.1.31.1.1.1.18.2', 'string', 'test name2'],
      ['iso.3.6.1.2.1.31.1.1.1.18.3', 'string', 'test name3'],
    ]);
    const range = { from: 1, to: 3, label: 'randomParam' };
    const oidLabels = { portName: 'iso.3.6.1.2.1.31.1.1.1.18.${randomParam}' };
    const data = await probeOnce(
      source([
        { oid: 'iso.3.6.1.2.1.16.1.1.1.3.${randomParam}', oidLabels, range, name: 'Test' },
        { oid: 'iso.3.6.1.2.1.50.1.1.1.3.${randomParam}', oidLabels, range, name: 'Test' },
      ]),
    );
    expect(data.map((d) => [d.name, d.labels!.randomParam, d.labels!.portName, d.value])).toEqual([
      ['Test', '1', 'test name1', 123],
      ['Test', '2', 'test name2', 10],
      ['Test', '3', 'test name3', 11],
      ['Test', '1', 'test name1', 11],
    ]);
  });

  it.each([
    ['test_rate', 0, 10, 10],
    ['test_rate_overflow', 4294967290, 10, 16],
  ])('%s: nothing on the first probe, then the change per second', async (_name, first, second, perSecond) => {
    // Only the monotonic clock is faked: one second passes exactly between the probes.
    vi.useFakeTimers({ toFake: ['hrtime'] });
    agentValues([['iso.3.6.1.2.1.16.1.1.1.3.48', 'counter', first]]);
    const src = source([{ oid: 'iso.3.6.1.2.1.16.1.1.1.3.48', name: 'Test', mode: 'rate' }]);
    expect(await probeOnce(src)).toEqual([]);
    vi.advanceTimersByTime(1000);
    agentValues([['iso.3.6.1.2.1.16.1.1.1.3.48', 'counter', second]]);
    // The Python test checks name and value; the unit and naming marks are this project's additions.
    expect(await probeOnce(src)).toMatchObject([{ name: 'Test', value: perSecond }]);
  });
});
