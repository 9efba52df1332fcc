// Log lines: text, JSON for log shippers, and the syslog priority prefixes for the systemd journal.
import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, fstatSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createLogger, registerSecret, stderrIsJournal, type LoggerOptions } from '../src/log.js';
import { BIN, cli } from './helpers/cli.js';
import { tempDir } from './helpers/net.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function capture(opts: LoggerOptions = {}) {
  const lines: string[] = [];
  const log = createLogger('', { level: 'debug', ...opts, write: (l) => lines.push(l) });
  return { log, lines };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function dir(): string {
  const t = tempDir();
  cleanups.push(t.remove);
  return t.dir;
}

describe('text lines', () => {
  it('carry the time, the level and the prefix of the child', () => {
    const { log, lines } = capture();
    log.child('app.Dummy', { source: 'app.Dummy' }).warn('slow');
    log.info('started');
    expect(lines[0]).toMatch(/^\S+ WARN {2}\[app\.Dummy\] slow$/);
    expect(lines[0]!.split(' ')[0]).toMatch(ISO);
    expect(lines[1]).toMatch(/^\S+ INFO {2}started$/);
  });

  it('drop what is below the level', () => {
    const { log, lines } = capture({ level: 'warn' });
    log.info('no');
    log.debug('no');
    log.error('yes');
    expect(lines).toHaveLength(1);
  });
});

describe('JSON lines', () => {
  it('have time, level and message, and the source or writer as fields', () => {
    const { log, lines } = capture({ format: 'json' });
    log.child('web.Http.shop', { source: 'web.Http.shop' }).error('HTTP 500');
    log.child('', { writer: 'Graphite#1' }).warn('writer Graphite#1: cannot connect');
    log.debug('plain');
    const [a, b, c] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(a).toEqual({ time: expect.stringMatching(ISO), level: 'error', message: 'HTTP 500', source: 'web.Http.shop' });
    expect(b).toEqual({ time: expect.stringMatching(ISO), level: 'warn', message: 'writer Graphite#1: cannot connect', writer: 'Graphite#1' });
    expect(c).toEqual({ time: expect.stringMatching(ISO), level: 'debug', message: 'plain' });
  });

  it('keep a prefix that has no field in the message, and fields of every ancestor', () => {
    const { log, lines } = capture({ format: 'json' });
    log.child('app.X', { source: 'app.X' }).child('pool').info('hi');
    expect(JSON.parse(lines[0]!)).toEqual({ time: expect.stringMatching(ISO), level: 'info', message: '[pool] hi', source: 'app.X' });
  });

  it('are one line each, whatever the message holds, and secrets are redacted before escaping', () => {
    registerSecret('s3"cr\\et');
    const { log, lines } = capture({ format: 'json' });
    log.error('line one\nline "two" with s3"cr\\et');
    expect(lines[0]).not.toContain('\n');
    const msg = (JSON.parse(lines[0]!) as { message: string }).message;
    expect(msg).not.toContain('s3"cr\\et');
    expect(msg).toMatch(/^line one\nline "two" with \S+$/);
  });
});

describe('journal lines', () => {
  it('start with the syslog priority of their level and carry no time', () => {
    const { log, lines } = capture({ journal: true });
    log.child('app.X', { source: 'app.X' }).error('e');
    log.warn('w');
    log.info('i');
    log.debug('d');
    expect(lines).toEqual(['<3>ERROR [app.X] e', '<4>WARN  w', '<6>INFO  i', '<7>DEBUG d']);
  });

  it('in JSON start with the priority too', () => {
    const { log, lines } = capture({ journal: true, format: 'json' });
    log.warn('w');
    expect(lines[0]).toMatch(/^<4>\{"time":"[^"]+","level":"warn","message":"w"\}$/);
  });
});

describe('stderrIsJournal', () => {
  it('is true only when JOURNAL_STREAM names the device and inode of the stream', () => {
    const file = path.join(dir(), 'err');
    writeFileSync(file, '');
    const fd = openSync(file, 'a');
    cleanups.push(() => closeSync(fd));
    const st = statSync(file, { bigint: true });
    expect(stderrIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }, fd)).toBe(true);
    expect(stderrIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1n}` }, fd)).toBe(false);
    expect(stderrIsJournal({}, fd)).toBe(false);
    expect(stderrIsJournal({ JOURNAL_STREAM: 'garbage' }, fd)).toBe(false);
  });
});

describe('pollect --log-format', () => {
  const CONFIG = {
    selfMetrics: false,
    shutdownGrace: 1,
    writer: { type: 'Graphite', host: '127.0.0.1', port: 1 },
    executors: [{ collection: 'app', sources: [{ type: 'Http', name: 'down', url: 'http://127.0.0.1:1/', timeout: 2 }] }],
  };

  /** Runs the real launcher with stderr into a file, so that JOURNAL_STREAM can name that file. */
  function run(args: string[], journal: 'stderr' | 'elsewhere'): string[] {
    const d = dir();
    writeFileSync(path.join(d, 'c.json'), JSON.stringify(CONFIG));
    const errFile = path.join(d, 'stderr');
    const fd = openSync(errFile, 'w');
    const st = statSync(errFile, { bigint: true });
    const env = { ...process.env, JOURNAL_STREAM: `${st.dev}:${journal === 'stderr' ? st.ino : st.ino + 1n}` };
    try {
      const r = spawnSync(process.execPath, [BIN, '-c', 'c.json', '--once', ...args], { cwd: d, env, stdio: ['ignore', 'ignore', fd], timeout: 20_000 });
      expect(r.status).toBe(1); // the source failed
    } finally {
      closeSync(fd);
    }
    return readFileSync(errFile, 'utf8').trim().split('\n');
  }

  it('json: every line is a JSON object naming its source or writer', () => {
    const lines = run(['--log-format', 'json'], 'elsewhere').map((l) => JSON.parse(l) as Record<string, string>);
    expect(lines.every((l) => ISO.test(l.time!) && ['error', 'warn', 'info', 'debug'].includes(l.level!))).toBe(true);
    expect(lines).toContainEqual(expect.objectContaining({ source: 'app.Http.down', message: expect.stringContaining('ECONNREFUSED') }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', writer: 'Graphite', message: expect.stringContaining('cannot reach carbon') }));
  });

  it('under systemd (JOURNAL_STREAM is stderr) text lines carry priorities and no time', () => {
    const lines = run([], 'stderr');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^<[3467]>(ERROR|WARN |INFO |DEBUG) /);
    expect(lines).toContainEqual(expect.stringMatching(/^<3>ERROR writer Graphite: cannot reach carbon/));
    expect(lines).toContainEqual(expect.stringMatching(/^<4>WARN {2}app\.Http\.down: /));
  });

  it('with JOURNAL_STREAM naming another stream (stderr redirected) lines are plain', () => {
    const lines = run([], 'elsewhere');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ (ERROR|WARN |INFO |DEBUG) /);
  });

  it('rejects a format it does not know', async () => {
    const r = await cli(['--log-format', 'xml', '--check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("argument 'xml' is invalid");
  });
});

describe('an invalid config', () => {
  const bad = (): string => {
    const file = path.join(dir(), 'bad.json');
    writeFileSync(file, JSON.stringify({ executors: [{ sources: [{ type: 'Dummy', value: 'x' }, { type: 'Nope' }] }] }));
    return file;
  };

  it('is one JSON error line a problem with --log-format json', async () => {
    const r = await cli(['-c', bad(), '--check', '--log-format', 'json']);
    expect(r.code).toBe(2);
    const lines = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(lines.length).toBe(2);
    expect(lines.every((l) => l.level === 'error' && l.message!.startsWith('invalid config: executors[0].sources['))).toBe(true);
  });

  it('is at error priority in the journal, every line of it', async () => {
    const st = fstatSync(2, { bigint: true });
    const r = await cli(['-c', bad(), '--check'], { JOURNAL_STREAM: `${st.dev}:${st.ino}` });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('<3>pollect: invalid config:');
    expect(lines.length).toBe(3);
    for (const l of lines.slice(1)) expect(l).toMatch(/^<3> {2}executors\[0\]\.sources\[\d\]/);
  });
});
