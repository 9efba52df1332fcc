import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import { writeFileSync, readFileSync, existsSync, chmodSync } from 'node:fs';
import { ExecSource, type ExecConfig } from '../../src/sources/exec/index.js';
import { probeOnce, valueOf, quietLog } from '../helpers/probe.js';
import { readmeExamples, paramProblems } from '../helpers/readme-examples.js';
import { tempDir } from '../helpers/net.js';
import type { NotificationInput, Sample } from '../../src/sdk/index.js';
import { build, type Params } from '../helpers/plugin.js';

let tmp: ReturnType<typeof tempDir>;
const started: ExecSource[] = [];

beforeAll(() => {
  tmp = tempDir('pollect-exec-');
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.shutdown()));
});
afterAll(() => tmp.remove());

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function make(config: Params<ExecConfig>, log = quietLog, tickTime = 10): Promise<ExecSource> {
  const src = build(ExecSource, { type: 'Exec', ...config }, { configDir: tmp.dir, tickTime });
  await src.init({ log, tickTime, configDir: tmp.dir, signal: AbortSignal.timeout(10_000) });
  started.push(src);
  return src;
}

async function tryProbe(src: ExecSource): Promise<Sample[] | Error> {
  try {
    return await probeOnce(src);
  } catch (err) {
    return err as Error;
  }
}

describe('Exec, per tick', () => {
  it('runs a collectd exec script with COLLECTD_HOSTNAME and COLLECTD_INTERVAL set', async () => {
    const src = await make(
      {
        command: ['sh', '-c', 'echo "PUTVAL $COLLECTD_HOSTNAME/exec-test/gauge-interval interval=$COLLECTD_INTERVAL N:$COLLECTD_INTERVAL"'],
        format: 'collectd',
      },
      quietLog,
      30,
    );
    const s = await probeOnce(src);
    expect(valueOf(s, 'exec.gauge', { host: os.hostname(), plugin_instance: 'test', type_instance: 'interval' })).toBe(30);
  });

  it('runs a script given by a path relative to the config file, with env and cwd', async () => {
    const script = path.join(tmp.dir, 'telegraf.sh');
    writeFileSync(script, '#!/bin/sh\necho "disk,path=$(pwd) used=${USED}i,ok=true"\necho "weather,loc=home temp=21.5,note=\\"warm\\""\n');
    chmodSync(script, 0o755);
    const src = await make({ command: './telegraf.sh', format: 'influx', env: { USED: '1234' }, cwd: '.' });
    const s = await probeOnce(src);
    expect(valueOf(s, 'disk.used', { path: tmp.dir })).toBe(1234);
    expect(valueOf(s, 'disk.ok')).toBe(1);
    expect(valueOf(s, 'weather.temp', { loc: 'home' })).toBe(21.5);
    expect(s).toHaveLength(3);
  });

  it('splits a string command into words without a shell', async () => {
    const src = await make({ command: 'printf \'servers.a 1\\nservers.b %s\\n\' "2 "', format: 'graphite' });
    const s = await probeOnce(src);
    expect(valueOf(s, 'servers.a')).toBe(1);
    expect(valueOf(s, 'servers.b')).toBe(2);
  });

  it('refuses shell syntax in a string command and points to sh -c', () => {
    for (const cmd of ['cat /proc/loadavg | cut -d" " -f1', 'echo $HOME', 'a && b', 'x > /tmp/y', 'echo `id`', 'echo "$(id)"']) {
      expect(() => build(ExecSource, { type: 'Exec', command: cmd, format: 'json' }), cmd).toThrow(/uses shell syntax .*\["sh", "-c", "..."\]/);
    }
    expect(() => build(ExecSource, { type: 'Exec', command: "echo 'open", format: 'json' })).toThrow(/unterminated ' quote/);
  });

  it('reads a prometheus textfile and json output', async () => {
    const prom = await make({ command: ['printf', '# TYPE jobs_total counter\\njobs_total{q="a"} 5 1700000000000\\n'], format: 'prometheus' });
    expect((await probeOnce(prom))[0]).toMatchObject({ name: 'jobs_total', value: 5, type: 'counter', labels: { q: 'a' } });
    const json = await make({ command: ['echo', '{"up": 1, "queue": {"depth": 4}}'], format: 'json' });
    expect(await probeOnce(json)).toEqual([
      { name: 'up', value: 1 },
      { name: 'queue.depth', value: 4 },
    ]);
  });

  it('fails with the line number for malformed output', async () => {
    const src = await make({ command: ['printf', 'a.b 1\\na.c oops\\n'], format: 'graphite' });
    await expect(probeOnce(src)).rejects.toThrow(/graphite output of printf: line 2: bad value "oops"/);
  });

  it('fails with the exit code and the first stderr line when the command fails', async () => {
    const src = await make({ command: ['sh', '-c', 'echo "x 1"; echo "disk not found" >&2; exit 3'], format: 'graphite' });
    await expect(probeOnce(src)).rejects.toThrow(/sh exited with code 3: disk not found/);
  });

  it('kills a hung command, and what it started, at the probe timeout', async () => {
    const pidFile = path.join(tmp.dir, 'sleeper.pid');
    const src = await make({ command: ['sh', '-c', `sleep 30 & echo $! > ${pidFile}; echo "a 1"; wait`], format: 'graphite' });
    const t0 = Date.now();
    await expect(probeOnce(src, { timeoutMs: 500 })).rejects.toThrow(/timed out after 500 ms and was killed/);
    expect(Date.now() - t0).toBeLessThan(5000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor('the sleeper to be gone', () => !alive(pid) || undefined, 5000);
  });

  it('refuses binary output and huge output', async () => {
    const bin = await make({ command: ['head', '-c', '300', '/dev/urandom'], format: 'influx' });
    await expect(probeOnce(bin)).rejects.toThrow(/printed binary data/);
    const huge = await make({ command: ['yes', 'a.b 1'], format: 'graphite', maxBytes: 64 * 1024 });
    await expect(probeOnce(huge)).rejects.toThrow(/printed more than 65536 bytes and was killed/);
  });

  it('reports a missing command clearly', async () => {
    const src = await make({ command: ['/nonexistent/pollect-script'], format: 'json' });
    await expect(probeOnce(src)).rejects.toThrow(/pollect-script: command not found/);
  });

  it('hands collectd PUTNOTIF lines to ctx.notify with their fields', async () => {
    const got: NotificationInput[] = [];
    const src = await make({
      command: [
        'printf',
        'PUTNOTIF severity=warning time=1 host=h plugin=df type=percent type_instance=root message=Disk almost full\\nPUTVAL h/df/percent-root N:93\\n',
      ],
      format: 'collectd',
    });
    const res = await src.probe({
      signal: AbortSignal.timeout(5000),
      timeoutMs: 5000,
      tickTime: 10,
      log: quietLog,
      reportProblem: () => {},
      notify: (n) => got.push(n),
      wants: () => true,
    });
    expect(valueOf(res as Sample[], 'df.percent', { type_instance: 'root' })).toBe(93);
    expect(got).toEqual([{ severity: 'warning', time: 1000, host: 'h', plugin: 'df', type: 'percent', typeInstance: 'root', message: 'Disk almost full' }]);
  });

  it('reads a types.db for custom collectd types and reports a missing one', async () => {
    writeFileSync(path.join(tmp.dir, 'my-types.db'), 'sessions active:GAUGE:0:U, total:DERIVE:0:U\n');
    const src = await make({ command: ['echo', 'PUTVAL h/app/sessions N:3:120'], format: 'collectd', typesDb: 'my-types.db' });
    const s = await probeOnce(src);
    expect(valueOf(s, 'app.sessions.active')).toBe(3);
    expect(s.find((x) => x.name === 'app.sessions.total')?.type).toBe('counter');
    expect(() => build(ExecSource, { command: ['true'], format: 'collectd', typesDb: 'missing.db' }, { configDir: tmp.dir })).toThrow(
      expect.objectContaining({ name: 'ParamError', param: 'typesDb', message: expect.stringMatching(/cannot read .*missing\.db/) }),
    );
  });
});

describe('Exec, long-running', () => {
  it('reads lines as they come and keeps the latest value of each series', async () => {
    const src = await make({
      command: ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo "ticks $i"; echo "const 7"; sleep 0.05; done'],
      format: 'graphite',
      longRunning: true,
    });
    const first = await waitFor('a first value', async () => {
      const s = await probeOnce(src);
      return s.length === 2 ? valueOf(s, 'ticks') : undefined;
    });
    const later = await waitFor('a later value', async () => {
      const v = valueOf(await probeOnce(src), 'ticks');
      return v > first ? v : undefined;
    });
    expect(later).toBeGreaterThan(first);
    expect(valueOf(await probeOnce(src), 'const')).toBe(7);
  });

  it('keeps the parser state for the life of the child (Prometheus TYPE lines)', async () => {
    const src = await make({
      command: ['sh', '-c', 'echo "# TYPE hits_total counter"; while :; do echo "hits_total 3"; sleep 0.05; done'],
      format: 'prometheus',
      longRunning: true,
    });
    const s = await waitFor('a sample', async () => {
      const r = await probeOnce(src);
      return r.length ? r : undefined;
    });
    expect(s[0]).toMatchObject({ name: 'hits_total', value: 3, type: 'counter' });
  });

  it('restarts a child that dies, and fails the next probe saying why', async () => {
    const counter = path.join(tmp.dir, 'starts');
    writeFileSync(counter, '');
    const src = await make({
      command: ['sh', '-c', `echo x >> ${counter}; echo "value 1"; echo "out of memory" >&2; exit 3`],
      format: 'graphite',
      longRunning: true,
    });
    const err = await waitFor('the crash to be reported', async () => {
      const r = await tryProbe(src);
      return r instanceof Error ? r : undefined;
    });
    expect(err.message).toMatch(/sh exited with code 3: out of memory; restarting in 1 s/);
    // The value it printed is still the latest one.
    expect(valueOf(await probeOnce(src), 'value')).toBe(1);
    await waitFor('a restart', () => (readFileSync(counter, 'utf8').length >= 4 ? true : undefined), 5000);
  });

  it('fails the next probe for a malformed, binary or overlong line, naming it, and goes on', async () => {
    const src = await make({
      command: [
        'sh',
        '-c',
        'echo "good 1"; echo "bad line here"; printf "\\000\\001\\n"; head -c 1200000 /dev/zero | tr "\\0" a; echo; echo "good 2"; sleep 30',
      ],
      format: 'graphite',
      longRunning: true,
    });
    // Each failing probe names the first problem since the last probe and counts the others; the
    // overlong line is only known once 1 MiB of it has arrived, so a probe may come in between.
    const messages: string[] = [];
    let problems = 0;
    await waitFor('the three bad lines to be reported', async () => {
      const r = await tryProbe(src);
      if (r instanceof Error) {
        messages.push(r.message);
        problems += 1 + Number(/\(and (\d+) more problems? since the last probe\)$/.exec(r.message)?.[1] ?? 0);
      }
      return problems >= 3 ? true : undefined;
    });
    expect(messages[0]).toMatch(/^graphite output of sh: line 2: bad value "line": "bad line here"( \(and [12] more problems? since the last probe\))?$/);
    expect(problems).toBe(3);
    // The overlong line is reported as soon as it passes the cap; "good 2" comes after its end.
    const s = await waitFor('the line after the bad ones', async () => {
      const r = await probeOnce(src);
      return valueOf(r, 'good') === 2 ? r : undefined;
    });
    expect(s).toHaveLength(1);
  });

  it('kills the child, even one that ignores SIGTERM, at shutdown', async () => {
    const pidFile = path.join(tmp.dir, 'stubborn.pid');
    const src = build(
      ExecSource,
      {
        type: 'Exec',
        command: ['sh', '-c', `trap "" TERM; echo $$ > ${pidFile}; while :; do echo "a 1"; sleep 0.1; done`],
        format: 'graphite',
        longRunning: true,
      },
      { configDir: tmp.dir },
    );
    await src.init({ log: quietLog, tickTime: 10, configDir: tmp.dir, signal: AbortSignal.timeout(10_000) });
    await waitFor('the pid file', () => (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() ? true : undefined));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);
    await src.shutdown();
    expect(alive(pid)).toBe(false);
  });

  it('reports a missing command at init', async () => {
    const src = build(ExecSource, { type: 'Exec', command: ['/nonexistent/pollect-daemon'], format: 'influx', longRunning: true });
    await expect(src.init({ log: quietLog, tickTime: 10, configDir: tmp.dir, signal: AbortSignal.timeout(10_000) })).rejects.toThrow(
      /pollect-daemon: command not found/,
    );
  });
  it('schema: accepts the README examples, needs command and a known format', () => {
    const examples = readmeExamples('exec');
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const ex of examples) expect(paramProblems(ExecSource.schema, 'Exec', ex)).toEqual([]);
    expect(paramProblems(ExecSource.schema, 'Exec', { type: 'Exec', command: 'x' }).join('\n')).toMatch(/format: is required/);
    expect(paramProblems(ExecSource.schema, 'Exec', { type: 'Exec', command: 'x', format: 'csv' }).join('\n')).toMatch(/must be one of/);
  });
});
