// The command line: most cases in-process through main(argv); a few through the real launcher
// (signals, a closed stdout, an event loop that empties, plugins loaded by the installed build).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from './helpers/net.js';
import { cli, spawnCli, startCli } from './helpers/cli.js';
import { createLogger, setLogLevel } from '../src/log.js';

const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../package.json'), 'utf8')) as { version: string };

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A fresh folder (removed after the test) with `files` written into it; returns its path. */
function folder(files: Record<string, unknown> = {}): string {
  const t = tempDir();
  cleanups.push(t.remove);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(t.dir, name)), { recursive: true });
    writeFileSync(path.join(t.dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return t.dir;
}

/** A config file `c.json` (or `name`) in a fresh folder; returns its path. */
function config(content: unknown, name = 'c.json'): string {
  return path.join(folder({ [name]: content }), name);
}

const LINE = /^(\S+?)(\{.*\})? (\S+) (\d{13})$/;

/** A source that never answers and ignores its abort signal, as a broken plugin would. */
const HANG_PLUGIN = "import { Source } from 'pollect';\nexport class HangSource extends Source { probe() { return new Promise(() => {}); } }\n";

describe('pollect --once', () => {
  it('runs one tick, prints samples and exits 0 when every source succeeded', async () => {
    const file = config({
      selfMetrics: false,
      writer: { type: 'DryRun' },
      executors: [
        {
          collection: 'app',
          sources: [
            { type: 'Dummy', value: 42, labels: { env: 'a"b' } },
            { type: 'Dummy', name: 'two', value: { x: 1.5 } },
          ],
        },
      ],
    });
    const r = await cli(['-c', file, '--once']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => LINE.test(l))).toBe(true);
    expect(lines[0]).toMatch(/^app\.Dummy\{env="a\\"b"\} 42 \d{13}$/);
    expect(lines[1]).toMatch(/^app\.Dummy\.two\.x 1\.5 \d{13}$/);
  });

  it('exits 1 when a source failed, still writing the others, with a one-line error and no stack', async () => {
    const file = config({
      selfMetrics: false,
      writer: { type: 'DryRun' },
      executors: [
        {
          sources: [
            { type: 'Dummy', error: 'backend down' },
            { type: 'Dummy', name: 'ok' },
          ],
        },
      ],
    });
    const r = await cli(['-c', file, '--once']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^pollect\.Dummy\.ok 1 \d{13}\n$/);
    expect(r.stderr).toMatch(/^\S+ ERROR pollect\.Dummy: backend down\n$/);
  });

  it('--once reads a source that reports rates twice, a second apart, so that its rates are printed', async () => {
    const file = config({
      selfMetrics: false,
      writer: { type: 'DryRun' },
      executors: [{ collection: 'h', sources: [{ type: 'Interface', include: ['lo'] }, { type: 'Cpu', perCpu: false }, { type: 'LoadAvg' }] }],
    });
    const t0 = Date.now();
    const r = await cli(['-c', file, '--once']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    const names = new Set(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.replace(/[{ ].*/, '')),
    );
    expect([...names].sort()).toEqual([
      'h.Cpu',
      'h.Interface.recv_bytes_sec',
      'h.Interface.recv_packets_sec',
      'h.Interface.sent_bytes_sec',
      'h.Interface.sent_packets_sec',
      'h.LoadAvg',
    ]);
    // One line per series: the first reading was not written.
    expect(r.stdout.match(/^h\.LoadAvg/gm)).toHaveLength(3);
  });

  it('--dry-run replaces the configured writers with DryRun text', async () => {
    const file = config({ selfMetrics: false, writer: { type: 'DryRun', format: 'json' }, executors: [{ sources: [{ type: 'Dummy' }] }] });
    expect((await cli(['-c', file, '--once'])).stdout.startsWith('{')).toBe(true);
    expect((await cli(['-c', file, '--once', '-r'])).stdout).toMatch(/^pollect\.Dummy 1 \d{13}\n$/);
  });

  it('reads YAML, finds NAME.yml for -c NAME, and substitutes environment variables', async () => {
    const yml = 'tickTime: 5\nwriter: {type: DryRun}\nexecutors:\n  - collection: ${COLL:-fallback}\n    sources:\n      - type: Dummy\n        value: 2\n';
    const base = config(yml, 'conf.yml').replace(/\.yml$/, '');
    expect((await cli(['-c', base, '--once', '-r'], { COLL: 'fromenv' })).stdout).toMatch(/^fromenv\.Dummy 2 \d{13}\n$/);
    expect((await cli(['-c', base, '--once', '-r'])).stdout).toMatch(/^fallback\.Dummy 2 \d{13}\n$/);
  });

  it('rate sources print a value: a first reading --once-interval before the tick', async () => {
    const file = config({
      selfMetrics: false,
      writer: { type: 'DryRun' },
      executors: [{ sources: [{ type: 'Cpu', perCpu: false }, { type: 'Interface', include: ['lo'] }, { type: 'Dummy' }] }],
    });
    const started = Date.now();
    const r = await cli(['-c', file, '--once', '--once-interval', '0.3']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    const lines = r.stdout.trim().split('\n');
    for (const mode of ['user', 'system', 'idle']) expect(lines.some((l) => l.startsWith(`pollect.Cpu{cpu="all",mode="${mode}"} `))).toBe(true);
    for (const rate of ['recv_bytes_sec', 'sent_bytes_sec', 'recv_packets_sec', 'sent_packets_sec'])
      expect(lines.some((l) => l.startsWith(`pollect.Interface.${rate}{interface="lo"} `))).toBe(true);
    // A source without rates is probed once: Dummy printed once.
    expect(lines.filter((l) => l.startsWith('pollect.Dummy '))).toHaveLength(1);
    expect((await cli(['-c', file, '--once', '--once-interval', 'soon'])).code).toBe(2);
    expect((await cli(['-c', file, '--once', '--once-interval', '-1'])).stderr).toContain('a number of seconds from 0 to 60');
  });

  it('exits 1 when a writer could not deliver (a File in a missing folder), after retrying within shutdownGrace', async () => {
    const dir = folder();
    const file = config({
      shutdownGrace: 0.3,
      selfMetrics: false,
      writers: [
        { type: 'File', path: path.join(dir, 'missing', 'out.jsonl') },
        { type: 'File', path: path.join(dir, 'out.jsonl') },
      ],
      executors: [{ sources: [{ type: 'Dummy' }] }],
    });
    const started = Date.now();
    const r = await cli(['-c', file, '--once']);
    expect(r.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(r.stderr).toContain(`directory ${path.join(dir, 'missing')} does not exist`);
    expect(r.stderr).toMatch(/WARN +writer File: stopped with 1 point\(s\) not written/);
    // The other writer delivered.
    expect(readFileSync(path.join(dir, 'out.jsonl'), 'utf8')).toMatch(/^\{"name":"pollect.Dummy",/);
  });
});

describe('a source that never answers (--once, through the launcher)', () => {
  it('exits 1 within timeout + shutdownGrace, every writer flushed, though its probe ignores the abort', () => {
    const dir = folder({ 'hang.mjs': HANG_PLUGIN });
    const cfg = {
      shutdownGrace: 20,
      writers: [{ type: 'File', path: 'out.jsonl' }, { type: 'DryRun' }],
      executors: [
        {
          sources: [
            { type: './hang.mjs', timeout: 0.5 },
            { type: 'Dummy', value: 3 },
          ],
        },
      ],
    };
    writeFileSync(path.join(dir, 'c.json'), JSON.stringify(cfg));
    const started = Date.now();
    const r = spawnCli(['-c', path.join(dir, 'c.json'), '--once'], {}, 30_000);
    const elapsed = Date.now() - started;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERROR pollect\.Hang: timed out after 0\.5 s/);
    // The probe was abandoned at its timeout: shutdown does not wait on it (20 s of grace).
    expect(elapsed).toBeLessThan(500 + 10_000);
    const filed = readFileSync(path.join(dir, 'out.jsonl'), 'utf8');
    expect(filed).toMatch(/"name":"pollect\.Dummy","labels":\{\},"value":3/);
    expect(r.stdout).toMatch(/^pollect\.Dummy 3 \d{13}$/m);
    // The self-metrics ran after the tick: they report the timeout.
    expect(filed).toMatch(/"name":"pollect\.source\.success","labels":\{"collection":"pollect","source":"pollect\.Hang","type":"Hang"\},"value":0/);
  });
});

describe('start errors', () => {
  it('a writer whose port is in use: exit 1 with one line naming the writer', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => blocker.close());
    const port = (blocker.address() as net.AddressInfo).port;
    const file = config({ writer: { type: 'Prometheus', host: '127.0.0.1', port }, executors: [{ sources: [{ type: 'Dummy' }] }] });
    const r = await cli(['-c', file, '--once']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^\\S+ ERROR Prometheus writer Prometheus: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use\n$`));
  });

  it('an HttpIngress source whose port is in use: exit 1 naming the source, before any tick', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => blocker.close());
    const port = (blocker.address() as net.AddressInfo).port;
    const dir = folder();
    const file = config({
      writer: { type: 'File', path: path.join(dir, 'out.jsonl') },
      executors: [{ sources: [{ type: 'HttpIngress', name: 'push', host: '127.0.0.1', port, metrics: { m: {} } }, { type: 'Dummy' }] }],
    });
    for (const args of [['--once'], []]) {
      const r = await cli(['-c', file, ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`ERROR pollect\\.HttpIngress\\.push: init failed: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`));
      expect(r.stdout).toBe('');
    }
    // No tick ran: nothing was written.
    expect(() => readFileSync(path.join(dir, 'out.jsonl'))).toThrow();
  });
});

describe('pollect --check and bad configs', () => {
  it('--check validates and exits 0', async () => {
    const r = await cli(['-c', config({ writer: { type: 'DryRun' }, executors: [{ sources: [{ type: 'Dummy' }] }] }), '--check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OK (1 executor(s), 1 source(s))');
  });

  it('a malformed config exits 2 naming the bad path, never a stack trace', async () => {
    const file = config({ writer: { type: 'DryRun' }, executors: [{ sources: [{ type: 'Dummy' }, { type: 'Dummy', sleep: 'x' }] }] });
    for (const args of [['--check'], ['--once'], []]) {
      const r = await cli(['-c', file, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe('pollect: invalid config:\n  executors[0].sources[1].sleep: must be a number\n');
    }
  });

  it('a config without writers runs with --dry-run, and is an error without it', async () => {
    const file = config({ executors: [{ sources: [{ type: 'Dummy' }] }] });
    expect((await cli(['-c', file, '--once', '--dry-run'])).code).toBe(0);
    const r = await cli(['-c', file, '--once']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('executors[0]: no writer');
  });

  it('a source whose constructor rejects its params is a config error with its path, also for --check', async () => {
    const dir = folder({
      'picky.mjs': "export class PickySource { constructor(c) { throw new Error('regex [a-z is not valid'); } probe() { return 1; } }\n",
      'c.json': { writer: { type: 'DryRun' }, executors: [{ sources: [{ type: 'Dummy' }, { type: './picky.mjs' }] }] },
    });
    for (const args of [['--check'], ['--once']]) {
      const r = await cli(['-c', path.join(dir, 'c.json'), ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe('pollect: invalid config:\n  executors[0].sources[1]: regex [a-z is not valid\n');
    }
  });

  it('a JSON syntax error exits 2 with line and column', async () => {
    const file = config('{\n  "executors": [\n    {"sources": [}\n  ]\n}\n');
    const r = await cli(['-c', file, '--check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:3:18: invalid JSON: unexpected '}'`);
  });

  it('a missing config file exits 2', async () => {
    const r = await cli(['-c', '/nonexistent/pollect-config', '--check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('config file not found');
  });

  it("--log-level warning (the Python pollect's spelling) is warn", async () => {
    const file = config({ writer: { type: 'DryRun' }, executors: [{ sources: [{ type: 'Dummy' }] }] });
    try {
      expect((await cli(['-c', file, '--check', '--log-level', 'warning'])).code).toBe(0);
      const lines: string[] = [];
      const log = createLogger('', { write: (l) => lines.push(l) });
      log.info('hidden');
      log.warn('shown');
      expect(lines.join('\n')).not.toContain('hidden');
      expect(lines.join('\n')).toContain('WARN  shown');
    } finally {
      setLogLevel('info');
    }
  });

  it('an unknown option exits 2 with usage', async () => {
    const r = await cli(['--nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--nope'");
  });
});

describe('plugins outside the package', () => {
  it('the installed build loads a TS and a JS source that import { Source } from "pollect", by pluginDirs and by path', () => {
    const dir = folder({
      'plugins/CountSource.ts': `import { Source, type SourceConfig } from 'pollect';\ninterface C extends SourceConfig { start: number }\nexport class CountSource extends Source<C> {\n  private n: number = 0;\n  probe(): number { return this.config.start + this.n++; }\n}\n`,
      'plugins/pair.mjs': `import { Source } from 'pollect';\nexport class PairSource extends Source { probe() { return [{ name: 'p', value: 1, labels: { k: 'v' } }]; } }\n`,
      'c.json': {
        pluginDirs: ['plugins'],
        writer: { type: 'DryRun' },
        executors: [{ collection: 'x', sources: [{ type: 'Count', start: 10 }, { type: './plugins/pair.mjs' }] }],
      },
    });
    const r = spawnCli(['-c', path.join(dir, 'c.json'), '--once', '-r']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^x\.Count 10 \d+\nx\.Pair\.p\{k="v"\} 1 \d+\n$/);
  });

  it('the example plugins of the README run', async () => {
    const r = await cli(['-c', path.resolve(__dirname, '../examples/random.yml'), '--once', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^demo\.Random\{origin="example"\} \d+(\.\d+)?(e-\d+)? \d+\ndemo\.MultiRandom\.a .*\ndemo\.MultiRandom\.b .*\n$/);
  });
});

describe('pollect as a daemon (through the launcher)', () => {
  it('ticks on its timer and exits 0 on SIGTERM after flushing', async () => {
    const file = config({ tickTime: 0.2, writer: { type: 'DryRun' }, executors: [{ sources: [{ type: 'Dummy' }] }] });
    const { child, io, exit } = startCli(['-c', file, '-r']);
    const deadline = Date.now() + 10_000;
    while (io.out.split('\n').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(io.out.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(2);
    expect(io.err).toContain('SIGTERM: stopping');
  });

  it('stops cleanly with exit 0 when stdout is closed (pollect -r | head)', async () => {
    const file = config({ tickTime: 0.2, writer: { type: 'DryRun' }, executors: [{ sources: [{ type: 'Dummy' }] }] });
    const { child, io, exit } = startCli(['-c', file]);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exit;
    clearTimeout(timer);
    expect(code).toBe(0);
    expect(io.err).toContain('SIGPIPE: stopping');
  });
});

// These load every source module: faster from the build than through the test runner's transform.
describe('pollect sources, schema, --version (through the launcher)', () => {
  it('lists source types with descriptions', () => {
    const r = spawnCli(['sources']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Dummy\s+A fixed value/m);
  });

  it('prints a JSON schema that describes executors and every source type', () => {
    const r = spawnCli(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as { properties: Record<string, { items?: { properties?: { sources?: { items?: { allOf?: unknown[] } } } } }> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['tickTime', 'writer', 'writers', 'executors']));
    expect(schema.properties.executors!.items!.properties!.sources!.items!.allOf!.length).toBeGreaterThanOrEqual(1);
  });

  it('--version prints the package version', async () => {
    expect((await cli(['--version'])).stdout.trim()).toBe(pkg.version);
  });
});
