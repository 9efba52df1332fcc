// Side by side: Debian's collectd (collectd-core: exec, threshold, logfile) and pollect run the same
// exec script with the same threshold, translated from the collectd.conf block below. The script
// prints one value per run, stepping through a scripted series (okay, warning, failure, warning,
// okay, then nothing: missing, then okay again) and one PUTNOTIF of its own. collectd logs its
// notifications with the logfile plugin; pollect hands them to a writer. Both must emit the same
// sequence: severity, identifier, and the same message text but for the seconds a missing value
// was waited for (timing).
import { describe, it, expect, afterEach } from 'vitest';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Daemon } from '../../src/executors/daemon.js';
import { loadConfig } from '../../src/config/load.js';
import { Writer, type Batch, type Notification } from '../../src/sdk/index.js';
import { createLogger } from '../../src/log.js';
import { spawnDaemon, tempDir, type Daemon as ServerProcess } from '../helpers/net.js';
import { needs } from '../helpers/servers.js';

/**
 * One line per run: the values of four series, `-` for none. `scripted` goes through okay, warning,
 * failure, warning, okay; `tuned` has Hits, Hysteresis and Persist; `df-root` is checked on its free
 * share (DataSource, Percentage); `requests` is a DERIVE checked on its rate; `persist` has Persist
 * and PersistOK; `inverted` has Invert. Five runs print
 * nothing (missing), then all come back.
 */
const SERIES = [
  '5 5 50:50 0 5 5',
  '15 11 92:8 50 11 11',
  '25 11 97:3 300 11 15',
  '15 11 97:3 350 5 25',
  '5 9 60:40 400 5 5',
  '- - - - - -',
  '- - - - - -',
  '- - - - - -',
  '- - - - - -',
  '- - - - - -',
  '5 12 50:50 1000 5 5',
  '5 12 50:50 1050 11 15',
];

/** One step per run; $1 names the daemon, so each has its own step counter. */
const FEED = `#!/bin/sh
dir=$(dirname "$0")
n=$(cat "$dir/step.$1" 2>/dev/null || echo 0)
n=$((n + 1))
echo $n > "$dir/step.$1"
[ "$n" = 2 ] && echo "PUTNOTIF severity=warning time=$(date +%s) host=test plugin=exec type=gauge type_instance=scripted message=\\"the script says hello\\""
line=$(sed -n "\${n}p" "$dir/series")
[ -z "$line" ] && exit 0
set -- $line
[ "$1" != "-" ] && echo "PUTVAL test/exec/gauge-scripted N:$1"
[ "$2" != "-" ] && echo "PUTVAL test/exec/gauge-tuned N:$2"
[ "$3" != "-" ] && echo "PUTVAL test/df/df-root N:$3"
[ "$4" != "-" ] && echo "PUTVAL test/exec/derive-requests N:$4"
[ "$5" != "-" ] && echo "PUTVAL test/exec/gauge-persist N:$5"
[ "$6" != "-" ] && echo "PUTVAL test/exec/gauge-inverted N:$6"
exit 0
`;

const THRESHOLD_BLOCK = `<Plugin threshold>
  <Plugin "exec">
    <Type "gauge">
      Instance "scripted"
      WarningMax 10
      FailureMax 20
    </Type>
    <Type "gauge">
      Instance "tuned"
      WarningMax 10
      FailureMax 20
      Hysteresis 2
      Hits 1
      Persist true
    </Type>
    <Type "derive">
      Instance "requests"
      WarningMax 100
    </Type>
    <Type "gauge">
      Instance "persist"
      WarningMax 10
      Persist true
      PersistOK true
    </Type>
    <Type "gauge">
      Instance "inverted"
      WarningMin 10
      WarningMax 20
      FailureMin 12
      FailureMax 18
      Invert true
    </Type>
  </Plugin>
  <Plugin "df">
    <Type "df">
      Instance "root"
      DataSource "free"
      Percentage true
      WarningMin 10
      FailureMin 5
    </Type>
  </Plugin>
</Plugin>`;

/** The same, translated (docs/notifications.md): one rule per <Type> block. */
const RULES = [
  { plugin: 'exec', type: 'gauge', typeInstance: 'scripted', warningMax: 10, failureMax: 20 },
  { plugin: 'exec', type: 'gauge', typeInstance: 'tuned', warningMax: 10, failureMax: 20, hysteresis: 2, hits: 1, persist: true },
  { plugin: 'exec', type: 'derive', typeInstance: 'requests', warningMax: 100 },
  { plugin: 'exec', type: 'gauge', typeInstance: 'persist', warningMax: 10, persist: true, persistOK: true },
  { plugin: 'exec', type: 'gauge', typeInstance: 'inverted', warningMin: 10, warningMax: 20, failureMin: 12, failureMax: 18, invert: true },
  { plugin: 'df', type: 'df', typeInstance: 'root', dataSource: 'free', percentage: true, warningMin: 10, failureMin: 5 },
];

/**
 * What both emit: severity and message per identifier, in order (the order across identifiers
 * within one interval is each daemon's own). Left out of the text: the seconds a missing value was
 * waited for, and a rate's digits (collectd divides by the times values arrived, pollect by the ticks').
 */
function byIdentifier(list: { severity: string; id: string; message: string }[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const n of list) {
    let text = n.message.replace(/has not been updated for [\d.]+ seconds/, 'has not been updated for N seconds');
    if (n.id.includes('derive')) text = text.replace(/(currently|is) [\d.]+\./, '$1 R.');
    (out[n.id] ??= []).push(`${n.severity.toUpperCase()} ${text}`);
  }
  return out;
}

class Collect extends Writer {
  got: Notification[] = [];
  write(_b: Batch): void {}
  override notify(list: readonly Notification[]): void {
    this.got.push(...list);
  }
}

function steps(dir: string, who: string): number {
  try {
    return Number(readFileSync(path.join(dir, `step.${who}`), 'utf8'));
  } catch {
    return 0;
  }
}

describe.skipIf(!needs('collectd'))('thresholds side by side with collectd', () => {
  let collectd: ServerProcess | undefined;
  let daemon: Daemon | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  afterEach(async () => {
    await collectd?.stop();
    await daemon?.stop();
    tmp?.remove();
  });

  it('emits the same notifications for the same values: okay, warning, failure, okay, missing; hits, hysteresis, persist, invert, percentage, rates', async () => {
    tmp = tempDir('pollect-threshold-side-');
    const dir = tmp.dir;
    // collectd's exec plugin will not run a program as root: the script runs as nobody and writes here.
    chmodSync(dir, 0o777);
    writeFileSync(path.join(dir, 'series'), SERIES.join('\n') + '\n');
    writeFileSync(path.join(dir, 'feed.sh'), FEED);
    chmodSync(path.join(dir, 'feed.sh'), 0o755);
    const log = path.join(dir, 'collectd.log');
    writeFileSync(
      path.join(dir, 'collectd.conf'),
      `Hostname "test"
FQDNLookup false
Interval 1
Timeout 3
BaseDir "${dir}"
PIDFile "${dir}/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "${log}"
</Plugin>
LoadPlugin exec
<Plugin exec>
  Exec "nobody:nogroup" "${dir}/feed.sh" "collectd"
</Plugin>
LoadPlugin threshold
${THRESHOLD_BLOCK}
`,
    );
    // The same, translated (docs/notifications.md): the exec source's collectd names map back to exec/gauge-scripted.
    writeFileSync(
      path.join(dir, 'pollect.json'),
      JSON.stringify({
        tickTime: 1,
        selfMetrics: false,
        thresholdTimeout: 3,
        thresholds: RULES,
        executors: [{ sources: [{ type: 'Exec', command: ['./feed.sh', 'pollect'], format: 'collectd' }] }],
      }),
    );

    collectd = spawnDaemon('collectd', ['-f', '-C', path.join(dir, 'collectd.conf')], { cwd: dir });
    const writer = new Collect({ type: 'Collect' });
    const config = await loadConfig(path.join(dir, 'pollect.json'), { writersOptional: true });
    daemon = new Daemon(config, { dryRun: true, dryRunWriter: writer, log: createLogger('', { level: 'error', write: () => {} }) });
    await daemon.start();

    // Each daemon is stopped once it has run every step and one interval more (for the last
    // values' notifications), on its own: the one that started first must not run on for the
    // seconds after which the values count as missing again while the other catches up.
    const until = Date.now() + 30_000;
    const stopWhenDone = async (who: string, stop: () => Promise<unknown>): Promise<void> => {
      while (steps(dir, who) < SERIES.length + 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
      await new Promise((r) => setTimeout(r, 500));
      await stop();
    };
    const pd = daemon;
    await Promise.all([stopWhenDone('collectd', collectd.stop), stopWhenDone('pollect', () => pd.stop())]);
    daemon = undefined;
    expect(steps(dir, 'collectd'), collectd.output()).toBeGreaterThan(SERIES.length);

    const fromCollectd = byIdentifier(
      readFileSync(log, 'utf8')
        .split('\n')
        .flatMap((l) => {
          const m = /Notification: severity = (\w+), host = ([^,]*), plugin = ([^,]*)(?:, type = ([^,]*))?(?:, type_instance = ([^,]*))?, message = (.*)$/.exec(
            l,
          );
          return m ? [{ severity: m[1]!, id: `${m[2]}/${m[3]}/${m[4]}-${m[5]}`, message: m[6]! }] : [];
        }),
    );
    const fromPollect = byIdentifier(
      writer.got.map((n) => ({ severity: n.severity, id: `${n.host}/${n.plugin}/${n.type}-${n.typeInstance}`, message: n.message })),
    );

    const within = (id: string, t: string, ds: string, v: string) =>
      `OKAY Host test, plugin ${id} type ${t}: All data sources are within range again. Current value of "${ds}" is ${v}.`;
    const above = (id: string, t: string, v: string, which: string, bound: string) =>
      `${which.toUpperCase()} Host test, plugin ${id} type ${t}: Data source "value" is currently ${v}. That is above the ${which} threshold of ${bound}.`;
    const missing = (id: string) => `FAILURE ${id} has not been updated for N seconds.`;
    const s = ['exec', 'gauge (instance scripted)'] as const;
    const t = ['exec', 'gauge (instance tuned)'] as const;
    const r = ['exec', 'derive (instance requests)'] as const;
    const p = ['exec', 'gauge (instance persist)'] as const;
    const v = ['exec', 'gauge (instance inverted)'] as const;
    const region = (which: string, value: string, min: string, max: string) =>
      `${which.toUpperCase()} Host test, plugin exec type gauge (instance inverted): Data source "value" is currently ${value}. That is within the ${which} region of ${min} and ${max}.`;
    const expected = {
      'test/exec/gauge-scripted': [
        within(...s, 'value', '5.000000'),
        'WARNING the script says hello',
        above(...s, '15.000000', 'warning', '10.000000'),
        above(...s, '25.000000', 'failure', '20.000000'),
        above(...s, '15.000000', 'warning', '10.000000'),
        within(...s, 'value', '5.000000'),
        missing('test/exec/gauge-scripted'),
        within(...s, 'value', '5.000000'),
      ],
      // Hits 1: the 3rd value out of range in a row reports (collectd counts 0, 1, then passes 1);
      // Hysteresis 2: 9 is not 2 inside WarningMax, still a warning, and the count starts again
      // (so Persist has nothing to repeat); after missing, 12 and 12 only count.
      'test/exec/gauge-tuned': [within(...t, 'value', '5.000000'), above(...t, '11.000000', 'warning', '10.000000'), missing('test/exec/gauge-tuned')],
      // The first reading of a DERIVE has no rate (nan, okay); 250/s is above 100; after missing
      // the value starts anew.
      'test/exec/derive-requests': [
        within(...r, 'value', 'nan'),
        above(...r, 'R', 'warning', '100.000000'),
        within(...r, 'value', 'R'),
        missing('test/exec/derive-requests'),
        within(...r, 'value', 'nan'),
      ],
      // Persist and PersistOK: every value is notified, in range or not (but missing only once).
      'test/exec/gauge-persist': [
        within(...p, 'value', '5.000000'),
        above(...p, '11.000000', 'warning', '10.000000'),
        above(...p, '11.000000', 'warning', '10.000000'),
        within(...p, 'value', '5.000000'),
        within(...p, 'value', '5.000000'),
        missing('test/exec/gauge-persist'),
        within(...p, 'value', '5.000000'),
        above(...p, '11.000000', 'warning', '10.000000'),
      ],
      'test/exec/gauge-inverted': [
        within(...v, 'value', '5.000000'),
        region('warning', '11.000000', '10.000000', '20.000000'),
        region('failure', '15.000000', '12.000000', '18.000000'),
        within(...v, 'value', '25.000000'),
        missing('test/exec/gauge-inverted'),
        within(...v, 'value', '5.000000'),
        region('failure', '15.000000', '12.000000', '18.000000'),
      ],
      'test/df/df-root': [
        within('df', 'df (instance root)', 'free', '50.000000'),
        'WARNING Host test, plugin df type df (instance root): Data source "free" is currently 8 (8.00%). That is below the warning threshold of 10.00%.',
        'FAILURE Host test, plugin df type df (instance root): Data source "free" is currently 3 (3.00%). That is below the failure threshold of 5.00%.',
        within('df', 'df (instance root)', 'free', '40.000000'),
        missing('test/df/df-root'),
        within('df', 'df (instance root)', 'free', '50.000000'),
      ],
    };
    expect(fromCollectd).toEqual(expected);
    expect(fromPollect).toEqual(expected);
  }, 45_000);
});
