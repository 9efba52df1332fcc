// Side by side: Debian's collectd (collectd-core: exec, threshold, logfile) and pollect run the same
// exec script with the same threshold, translated from the collectd.conf block below. The script
// prints one value per run, stepping through a scripted series (okay, warning, failure, warning,
// okay, then nothing: missing, then okay again) and one PUTNOTIF of its own. collectd logs its
// notifications with the logfile plugin; pollect hands them to a writer. Both must emit the same
// sequence: severity, identifier, and the same message text but for the seconds a missing value
// was waited for (timing).
import { describe, it, expect, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Daemon } from '../../src/executors/daemon.js';
import { loadConfig } from '../../src/config/load.js';
import { Writer, type Batch, type Notification } from '../../src/sdk/index.js';
import { createLogger } from '../../src/log.js';
import { tempDir } from '../helpers/net.js';
import { needs } from '../helpers/servers.js';

/** `-` is a run that prints nothing. */
const SERIES = ['5', '15', '25', '15', '5', '-', '-', '-', '-', '-', '5', '5'];

/** One step per run; $1 names the daemon, so each has its own step counter. */
const FEED = `#!/bin/sh
dir=$(dirname "$0")
n=$(cat "$dir/step.$1" 2>/dev/null || echo 0)
n=$((n + 1))
echo $n > "$dir/step.$1"
v=$(sed -n "\${n}p" "$dir/series")
[ "$n" = 2 ] && echo "PUTNOTIF severity=warning time=$(date +%s) host=test plugin=exec type=gauge type_instance=scripted message=\\"the script says hello\\""
[ -n "$v" ] && [ "$v" != "-" ] && echo "PUTVAL test/exec/gauge-scripted N:$v"
exit 0
`;

const THRESHOLD_BLOCK = `<Plugin threshold>
  <Plugin "exec">
    <Type "gauge">
      Instance "scripted"
      WarningMax 10
      FailureMax 20
    </Type>
  </Plugin>
</Plugin>`;

/** What both emit, in order: severity, identifier, message (the missing one's seconds left out). */
function key(severity: string, id: string, message: string): string {
  return `${severity.toUpperCase()} ${id} ${message.replace(/has not been updated for [\d.]+ seconds/, 'has not been updated for N seconds')}`;
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
  let collectd: ChildProcess | undefined;
  let daemon: Daemon | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  afterEach(async () => {
    collectd?.kill('SIGTERM');
    await daemon?.stop();
    tmp?.remove();
  });

  it('emits the same notifications for the same values: okay, warning, failure, warning, okay, missing, okay', async () => {
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
        thresholds: [{ plugin: 'exec', type: 'gauge', typeInstance: 'scripted', warningMax: 10, failureMax: 20 }],
        executors: [{ sources: [{ type: 'Exec', command: ['./feed.sh', 'pollect'], format: 'collectd' }] }],
      }),
    );

    collectd = spawn('collectd', ['-f', '-C', path.join(dir, 'collectd.conf')], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    collectd.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const writer = new Collect({ type: 'Collect' });
    const config = await loadConfig(path.join(dir, 'pollect.json'), { writersOptional: true });
    daemon = new Daemon(config, { dryRun: true, dryRunWriter: writer, log: createLogger('', { level: 'error', write: () => {} }) });
    await daemon.start();

    // Every step run by both, and one more interval for the last values' notifications.
    const until = Date.now() + 30_000;
    while ((steps(dir, 'collectd') < SERIES.length + 1 || steps(dir, 'pollect') < SERIES.length + 1) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 500));
    collectd.kill('SIGTERM');
    await daemon.stop();
    daemon = undefined;
    expect(steps(dir, 'collectd'), stderr).toBeGreaterThan(SERIES.length);

    const fromCollectd = readFileSync(log, 'utf8')
      .split('\n')
      .flatMap((l) => {
        const m = /Notification: severity = (\w+), host = ([^,]*), plugin = ([^,]*)(?:, type = ([^,]*))?(?:, type_instance = ([^,]*))?, message = (.*)$/.exec(l);
        return m ? [key(m[1]!, `${m[2]}/${m[3]}/${m[4]}-${m[5]}`, m[6]!)] : [];
      });
    const fromPollect = writer.got.map((n) => key(n.severity, `${n.host}/${n.plugin}/${n.type}-${n.typeInstance}`, n.message));

    const id = 'test/exec/gauge-scripted';
    const subject = 'Host test, plugin exec type gauge (instance scripted)';
    const expected = [
      `OKAY ${id} ${subject}: All data sources are within range again. Current value of "value" is 5.000000.`,
      `WARNING ${id} the script says hello`,
      `WARNING ${id} ${subject}: Data source "value" is currently 15.000000. That is above the warning threshold of 10.000000.`,
      `FAILURE ${id} ${subject}: Data source "value" is currently 25.000000. That is above the failure threshold of 20.000000.`,
      `WARNING ${id} ${subject}: Data source "value" is currently 15.000000. That is above the warning threshold of 10.000000.`,
      `OKAY ${id} ${subject}: All data sources are within range again. Current value of "value" is 5.000000.`,
      `FAILURE ${id} ${id} has not been updated for N seconds.`,
      `OKAY ${id} ${subject}: All data sources are within range again. Current value of "value" is 5.000000.`,
    ];
    expect(fromCollectd).toEqual(expected);
    expect(fromPollect).toEqual(expected);
  }, 45_000);
});
