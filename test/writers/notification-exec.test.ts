// NotificationExec writer: collectd's notification format, checked side by side with collectd 5
// itself (its exec plugin running the same script for a PUTNOTIF notification and for one of its
// threshold plugin), and the programs that go wrong: missing, failing, hanging.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NotificationExecWriter, type NotificationExecConfig } from '../../src/writers/notification-exec/index.js';
import { cExponent, notificationText } from '../../src/writers/notification-exec/format.js';
import { writerParamsSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { ParamError, type Notification, type WriterContext } from '../../src/sdk/index.js';
import { validate } from '../helpers/validate.js';
import { spawnDaemon, tempDir } from '../helpers/net.js';
import { needs } from '../helpers/servers.js';
import { batch, point } from '../helpers/points.js';
import { waitUntil } from '../helpers/clock.js';

const SCHEMA = writerParamsSchema(NotificationExecWriter.schema, 'NotificationExec');

function writer(params: Record<string, unknown>, configDir = '.'): { w: NotificationExecWriter; lines: string[] } {
  const data = { type: 'NotificationExec', ...params };
  expect(validate(SCHEMA, data, [])).toEqual([]);
  const lines: string[] = [];
  const log = createLogger('', { level: 'debug', write: (l) => lines.push(l) });
  const ctx: WriterContext = { configDir, tickTime: 1, log, reportDropped: () => {} };
  const w = new NotificationExecWriter(data as NotificationExecConfig, ctx);
  w.id = 'NotificationExec#1';
  w.start(ctx);
  return { w, lines };
}

function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** The notification of the PUTNOTIF line (plugin cpu) among a program's outputs. */
const fromPutnotif = (texts: string[]): string | undefined => texts.find((t) => t.includes('\nPlugin: cpu\n'));
/** The threshold plugin's notification (plugin exec, FAILURE) among them. */
const fromThreshold = (texts: string[]): string | undefined => texts.find((t) => t.startsWith('Severity: FAILURE\n') && t.includes('\nPlugin: exec\n'));

/** The files `dir` holds, their contents in name order. */
function contents(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((f) => readFileSync(path.join(dir, f), 'utf8'));
}

// The notification collectd's PUTNOTIF line below stands for, as a pollect source emits it.
const PUTNOTIF =
  'PUTNOTIF severity=failure time=1700000000.25 host=db1 plugin=cpu plugin_instance=0 type=percent type_instance=user s:current=95.5 s:limit=90 message="CPU 0 user is at 95.5%, above 90"';
const FROM_PUTNOTIF: Notification = {
  time: 1_700_000_000_250,
  severity: 'failure',
  host: 'db1',
  plugin: 'cpu',
  pluginInstance: '0',
  type: 'percent',
  typeInstance: 'user',
  message: 'CPU 0 user is at 95.5%, above 90',
  meta: { current: '95.5', limit: '90' },
  source: 'c.Exec',
};
// What collectd's threshold plugin says of exec-x/gauge-y at 97.5 with WarningMax 90, FailureMax 95.
const FROM_THRESHOLD: Notification = {
  time: 1_700_000_002_000,
  severity: 'failure',
  host: 'testhost',
  plugin: 'exec',
  pluginInstance: 'x',
  type: 'gauge',
  typeInstance: 'y',
  message:
    'Host testhost, plugin exec (instance x) type gauge (instance y): Data source "value" is currently 97.500000. That is above the failure threshold of 95.000000.',
  meta: { DataSource: 'value', CurrentValue: 97.5, WarningMin: NaN, WarningMax: 90, FailureMin: NaN, FailureMax: 95 },
  source: 'threshold',
};

describe('the format', () => {
  it("is collectd-exec(5)'s: header lines, an empty line, the message", () => {
    expect(
      notificationText({
        time: 1_200_928_930_515,
        severity: 'failure',
        host: 'myhost.mydomain.org',
        plugin: '',
        message: 'This is a test notification',
        source: 's',
      }),
    ).toBe('Severity: FAILURE\nTime: 1200928930.515\nHost: myhost.mydomain.org\n\nThis is a test notification\n');
  });

  it('a line break in a header cannot inject a field; the message keeps its lines', () => {
    const text = notificationText({ ...FROM_PUTNOTIF, meta: undefined, typeInstance: 'user\nSeverity: OKAY', message: 'line 1\nline 2' });
    expect(
      text
        .split('\n\n')[0]!
        .split('\n')
        .filter((l) => l.startsWith('Severity:')),
    ).toEqual(['Severity: FAILURE']);
    expect(text.endsWith('\n\nline 1\nline 2\n')).toBe(true);
  });

  it("prints numbers as C's %e", () => {
    expect([97.5, 90, 0, -0.00123, 1e300, 1.5e-300, NaN, Infinity, -Infinity].map(cExponent)).toEqual([
      '9.750000e+01',
      '9.000000e+01',
      '0.000000e+00',
      '-1.230000e-03',
      '1.000000e+300',
      '1.500000e-300',
      'nan',
      'inf',
      '-inf',
    ]);
  });
});

describe.skipIf(!needs('collectd'))('side by side with collectd', () => {
  const tmp = tempDir('pollect-notif-exec-');
  const collectdOut = path.join(tmp.dir, 'collectd');
  const pollectOut = path.join(tmp.dir, 'pollect');
  let save: string;

  beforeAll(async () => {
    // collectd runs exec programs as a user other than root: `nobody` must reach the scripts and the output folder.
    chmodSync(tmp.dir, 0o755);
    mkdirSync(collectdOut, { mode: 0o777 });
    chmodSync(collectdOut, 0o777);
    mkdirSync(pollectOut);
    save = script(tmp.dir, 'save.sh', 'cat > "$1/notif.$$"');
    const putnotif = script(tmp.dir, 'putnotif.sh', `echo '${PUTNOTIF}'\nexec sleep 30`);
    const putval = script(tmp.dir, 'putval.sh', 'while true; do echo "PUTVAL testhost/exec-x/gauge-y interval=1 N:97.5"; sleep 1; done');
    const conf = path.join(tmp.dir, 'collectd.conf');
    writeFileSync(
      conf,
      [
        'Hostname "testhost"',
        'FQDNLookup false',
        'Interval 1',
        `BaseDir "${tmp.dir}"`,
        `PIDFile "${tmp.dir}/collectd.pid"`,
        'PluginDir "/usr/lib/collectd"',
        'TypesDB "/usr/share/collectd/types.db"',
        'LoadPlugin exec',
        'LoadPlugin threshold',
        '<Plugin exec>',
        `  Exec "nobody" "${putnotif}"`,
        `  Exec "nobody" "${putval}"`,
        `  NotificationExec "nobody" "${save}" "${collectdOut}"`,
        '</Plugin>',
        '<Plugin threshold>',
        '  <Type "gauge">',
        '    WarningMax 90',
        '    FailureMax 95',
        '  </Type>',
        '</Plugin>',
        '',
      ].join('\n'),
    );
    const collectd = spawnDaemon('/usr/sbin/collectd', ['-f', '-C', conf]);
    // Until both notifications are there, whatever else collectd wrote and in whatever order (a CI
    // run once found two files that were not one of each).
    const both = (texts: string[]) => fromPutnotif(texts) !== undefined && fromThreshold(texts) !== undefined;
    const until = Date.now() + 10_000;
    while (!both(contents(collectdOut)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await collectd.stop();
    const texts = contents(collectdOut);
    expect(fromPutnotif(texts), `${texts.join('\n---\n')}\n${collectd.output()}`).toBeDefined();
    expect(fromThreshold(texts), `${texts.join('\n---\n')}\n${collectd.output()}`).toBeDefined();
  }, 15_000);
  afterAll(() => tmp.remove());

  it("the same script gets the same text from collectd and from pollect (but the threshold's Time)", async () => {
    const { w } = writer({ command: [save, pollectOut] });
    await w.notify([FROM_PUTNOTIF, FROM_THRESHOLD]);
    const collectdTexts = contents(collectdOut);
    const pollectTexts = contents(pollectOut);
    expect(pollectTexts).toHaveLength(2);
    const [c1, c2] = [fromPutnotif(collectdTexts), fromThreshold(collectdTexts)];
    const [p1, p2] = [fromPutnotif(pollectTexts), fromThreshold(pollectTexts)];
    expect(p1).toBeDefined();
    // PUTNOTIF names its time: byte for byte the same.
    expect(p1).toBe(c1);
    // The threshold's notification is stamped when collectd checked the value.
    const noTime = (t: string | undefined) => t?.replace(/^Time: .*$/m, 'Time: -');
    expect(noTime(c2)).toMatch(/^Severity: FAILURE\nTime: -\nHost: testhost\n/);
    expect(noTime(p2)).toBe(noTime(c2));
  });
});

describe('programs that go wrong', () => {
  const tmp = tempDir('pollect-notif-exec-');
  afterAll(() => tmp.remove());
  const N = FROM_PUTNOTIF;

  it('a program that does not exist is a config error; one removed later is logged', async () => {
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e instanceof ParamError ? `${e.param}: ${e.message}` : String(e);
      }
      return 'none';
    };
    expect(err(() => writer({ command: '/nonexistent/notify.sh' }))).toBe('command: /nonexistent/notify.sh is not an executable file');
    expect(err(() => writer({ command: 'no-such-program-pollect' }))).toBe('command: no-such-program-pollect is not on PATH');
    expect(err(() => writer({ command: 'mail -s x | y' }))).toMatch(/^command: .*shell syntax/);
    expect(err(() => writer({ command: tmp.dir }))).toMatch(/is not an executable file/);
    const gone = script(tmp.dir, 'gone.sh', 'exit 0');
    const { w, lines } = writer({ command: './gone.sh' }, tmp.dir);
    rmSync(gone);
    await expect(w.notify([N])).resolves.toBeUndefined();
    expect(lines.join('\n')).toMatch(/gone.sh: command not found \(for the failure notification "CPU 0 user is at 95.5%, above 90"\)/);
  });

  it('a non-zero exit is logged with its stderr, and not retried; samples are ignored', async () => {
    const count = path.join(tmp.dir, 'runs');
    script(tmp.dir, 'fail.sh', `cat >/dev/null; echo x >> "${count}"; echo "smtp: connection refused" >&2; exit 3`);
    const { w, lines } = writer({ command: './fail.sh' }, tmp.dir);
    await w.write(batch([point('c.Dummy', 1)]));
    await expect(w.notify([N])).resolves.toBeUndefined();
    expect(lines.join('\n')).toMatch(/fail.sh exited with code 3 for the failure notification .*: smtp: connection refused/);
    expect(readFileSync(count, 'utf8')).toBe('x\n');
  });

  it('a program that hangs is killed at the timeout, with what it started', async () => {
    const pids = path.join(tmp.dir, 'pids');
    script(tmp.dir, 'hang.sh', `sleep 60 & echo $! > "${pids}"; echo $$ >> "${pids}"; wait`);
    const { w, lines } = writer({ command: './hang.sh', timeout: 0.5 }, tmp.dir);
    const t0 = Date.now();
    await w.notify([N]);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(lines.join('\n')).toMatch(/hang.sh timed out after 500 ms and was killed/);
    // Dead or a zombie (the container's init may be slow to reap what lost its parent).
    const running = (pid: string) => existsSync(`/proc/${pid}`) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const started = readFileSync(pids, 'utf8').trim().split('\n');
    expect(started).toHaveLength(2);
    await waitUntil(() => !started.some(running), 2000).catch(() => {});
    const alive = started.filter(running);
    expect(alive).toEqual([]);
  });

  it("runs once per notification, at once, with collectd's environment and its own", async () => {
    const out = path.join(tmp.dir, 'env');
    mkdirSync(out);
    script(tmp.dir, 'env.sh', `{ echo "$COLLECTD_HOSTNAME|$COLLECTD_INTERVAL|$TEAM|$SECRET_FROM_PARENT"; cat; } > "${out}/$$"`);
    process.env.SECRET_FROM_PARENT = 'leak';
    try {
      const { w } = writer({ command: './env.sh', env: { TEAM: 'ops' } }, tmp.dir);
      await w.notify([N, { ...N, severity: 'okay' }]);
    } finally {
      delete process.env.SECRET_FROM_PARENT;
    }
    const runs = contents(out);
    expect(runs).toHaveLength(2);
    for (const r of runs) expect(r.split('\n')[0]).toMatch(/^[^|]+\|1\|ops\|$/);
    expect(runs.map((r) => r.split('\n')[1]).sort()).toEqual(['Severity: FAILURE', 'Severity: OKAY']);
  });
});
