// The real binary, spawned as a user runs it (npm test builds dist/ first).
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers/net.js';

const BIN = path.resolve(__dirname, '../bin/pollect.js');
const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../package.json'), 'utf8')) as { version: string };

function pollect(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function withConfig<T>(name: string, content: unknown, fn: (file: string, dir: string) => T): T {
  const t = tempDir();
  try {
    const file = path.join(t.dir, name);
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return fn(file, t.dir);
  } finally {
    t.remove();
  }
}

const LINE = /^(\S+?)(\{.*\})? (\S+) (\d{13})$/;

describe('pollect --once', () => {
  it('runs one tick, prints samples and exits 0 when every source succeeded', () => {
    const cfg = { writer: { type: 'DryRun' }, executors: [{ collection: 'app', sources: [{ type: 'Dummy', value: 42, labels: { env: 'a"b' } }, { type: 'Dummy', name: 'two', value: { x: 1.5 } }] }] };
    withConfig('c.json', cfg, (file) => {
      const r = pollect(['-c', file, '--once']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines.every((l) => LINE.test(l))).toBe(true);
      expect(lines[0]).toMatch(/^app\.Dummy\{env="a\\"b"\} 42 \d{13}$/);
      expect(lines[1]).toMatch(/^app\.Dummy\.two\.x 1\.5 \d{13}$/);
    });
  });

  it('exits 1 when a source failed, still writing the others, with a one-line error and no stack', () => {
    const cfg = { writer: { type: 'DryRun' }, executors: [{ sources: [{ type: 'Dummy', error: 'backend down' }, { type: 'Dummy', name: 'ok' }] }] };
    withConfig('c.json', cfg, (file) => {
      const r = pollect(['-c', file, '--once']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^pollect\.Dummy\.ok 1 \d{13}\n$/);
      expect(r.stderr).toMatch(/ERROR .*pollect\.Dummy: backend down/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  });

  it('--dry-run replaces the configured writers with DryRun text', () => {
    const cfg = { writer: { type: 'DryRun', format: 'json' }, executors: [{ sources: [{ type: 'Dummy' }] }] };
    withConfig('c.json', cfg, (file) => {
      expect(pollect(['-c', file, '--once']).stdout.startsWith('{')).toBe(true);
      expect(pollect(['-c', file, '--once', '-r']).stdout).toMatch(/^pollect\.Dummy 1 \d{13}\n$/);
    });
  });

  it('reads YAML, finds NAME.yml for -c NAME, and substitutes environment variables', () => {
    const yml = 'tickTime: 5\nwriter: {type: DryRun}\nexecutors:\n  - collection: ${COLL:-fallback}\n    sources:\n      - type: Dummy\n        value: 2\n';
    withConfig('conf.yml', yml, (file) => {
      const base = file.replace(/\.yml$/, '');
      expect(pollect(['-c', base, '--once'], { COLL: 'fromenv' }).stdout).toMatch(/^fromenv\.Dummy 2 /);
      expect(pollect(['-c', base, '--once']).stdout).toMatch(/^fallback\.Dummy 2 /);
    });
  });
});

describe('a writer that cannot start', () => {
  it('exits 1 with one line naming the writer when its port is in use', async () => {
    const net = await import('node:net');
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as import('node:net').AddressInfo).port;
    try {
      const cfg = { writer: { type: 'Prometheus', host: '127.0.0.1', port }, executors: [{ sources: [{ type: 'Dummy' }] }] };
      withConfig('c.json', cfg, (file) => {
        const r = pollect(['-c', file, '--once']);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`ERROR .*Prometheus.*port ${port} on 127\\.0\\.0\\.1 is already in use`));
        expect(r.stderr.match(/Prometheus/g)).toHaveLength(2);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      });
    } finally {
      blocker.close();
    }
  });
});

describe('pollect --check and bad configs', () => {
  it('--check validates and exits 0', () => {
    withConfig('c.json', { writer: { type: 'DryRun' }, executors: [{ sources: [{ type: 'Dummy' }] }] }, (file) => {
      const r = pollect(['-c', file, '--check']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('OK (1 executor(s), 1 source(s))');
    });
  });

  it('a malformed config exits 2 naming the bad path, never a stack trace', () => {
    const cfg = { writer: { type: 'DryRun' }, executors: [{ sources: [{ type: 'Dummy' }, { type: 'Dummy', sleep: 'x' }] }] };
    withConfig('c.json', cfg, (file) => {
      for (const args of [['--check'], ['--once'], []]) {
        const r = pollect(['-c', file, ...args]);
        expect(r.code).toBe(2);
        expect(r.stderr).toBe('pollect: invalid config:\n  executors[0].sources[1].sleep: must be a number\n');
      }
    });
  });

  it('a config without writers runs with --dry-run, and is an error without it', () => {
    withConfig('c.json', { executors: [{ sources: [{ type: 'Dummy' }] }] }, (file) => {
      expect(pollect(['-c', file, '--once', '--dry-run']).code).toBe(0);
      const r = pollect(['-c', file, '--once']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('executors[0]: no writer');
    });
  });

  it('a source whose constructor rejects its params is a config error with its path, also for --check', () => {
    const t = tempDir();
    try {
      writeFileSync(path.join(t.dir, 'picky.mjs'), "export class PickySource { constructor(c) { throw new Error('regex [a-z is not valid'); } probe() { return 1; } }\n");
      const file = path.join(t.dir, 'c.json');
      writeFileSync(file, JSON.stringify({ writer: { type: 'DryRun' }, executors: [{ sources: [{ type: 'Dummy' }, { type: './picky.mjs' }] }] }));
      for (const args of [['--check'], ['--once']]) {
        const r = pollect(['-c', file, ...args]);
        expect(r.code).toBe(2);
        expect(r.stderr).toBe('pollect: invalid config:\n  executors[0].sources[1]: regex [a-z is not valid\n');
      }
    } finally {
      t.remove();
    }
  });

  it('a JSON syntax error exits 2 with line and column', () => {
    withConfig('c.json', '{\n  "executors": [\n    {"sources": [}\n  ]\n}\n', (file) => {
      const r = pollect(['-c', file, '--check']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${file}:3:18: invalid JSON: unexpected '}'`);
    });
  });

  it('a missing config file exits 2', () => {
    const r = pollect(['-c', '/nonexistent/pollect-config', '--check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('config file not found');
  });

  it('an unknown option exits 2 with usage', () => {
    const r = pollect(['--nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--nope'");
  });
});

describe('plugins outside the package', () => {
  it('loads a TS and a JS source that import { Source } from "pollect", by pluginDirs and by path', () => {
    const t = tempDir();
    try {
      mkdirSync(path.join(t.dir, 'plugins'));
      writeFileSync(
        path.join(t.dir, 'plugins', 'CountSource.ts'),
        `import { Source, type SourceConfig } from 'pollect';\ninterface C extends SourceConfig { start: number }\nexport class CountSource extends Source<C> {\n  private n: number = 0;\n  probe(): number { return this.config.start + this.n++; }\n}\n`,
      );
      writeFileSync(
        path.join(t.dir, 'plugins', 'pair.mjs'),
        `import { Source } from 'pollect';\nexport class PairSource extends Source { probe() { return [{ name: 'p', value: 1, labels: { k: 'v' } }]; } }\n`,
      );
      const cfg = { pluginDirs: ['plugins'], writer: { type: 'DryRun' }, executors: [{ collection: 'x', sources: [{ type: 'Count', start: 10 }, { type: './plugins/pair.mjs' }] }] };
      writeFileSync(path.join(t.dir, 'c.json'), JSON.stringify(cfg));
      const r = pollect(['-c', path.join(t.dir, 'c.json'), '--once']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^x\.Count 10 \d+\nx\.Pair\.p\{k="v"\} 1 \d+\n$/);
    } finally {
      t.remove();
    }
  });

  it('the example plugins of the README run', () => {
    const r = pollect(['-c', path.resolve(__dirname, '../examples/random.yml'), '--once']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^demo\.Random\{origin="example"\} \d+(\.\d+)?(e-\d+)? \d+\ndemo\.MultiRandom\.a .*\ndemo\.MultiRandom\.b .*\n$/);
  });
});

describe('pollect as a daemon', () => {
  it('ticks on its timer and exits 0 on SIGTERM after flushing', async () => {
    const t = tempDir();
    try {
      const file = path.join(t.dir, 'c.json');
      writeFileSync(file, JSON.stringify({ tickTime: 1, writer: { type: 'DryRun' }, executors: [{ sources: [{ type: 'Dummy' }] }] }));
      const child = spawn(process.execPath, [BIN, '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const deadline = Date.now() + 10_000;
      while (out.split('\n').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(0);
      expect(out.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(2);
      expect(err).toContain('SIGTERM: stopping');
    } finally {
      t.remove();
    }
  });
});

describe('a reader that goes away', () => {
  it('stops cleanly with exit 0 when stdout is closed (pollect -r | head)', async () => {
    const t = tempDir();
    try {
      const file = path.join(t.dir, 'c.json');
      writeFileSync(file, JSON.stringify({ tickTime: 1, writer: { type: 'DryRun' }, executors: [{ sources: [{ type: 'Dummy' }] }] }));
      const child = spawn(process.execPath, [BIN, '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.stdout.destroy();
      const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exit;
      clearTimeout(timer);
      expect(code).toBe(0);
      expect(err).toContain('SIGPIPE: stopping');
    } finally {
      t.remove();
    }
  });
});

describe('pollect sources, schema, --version', () => {
  it('lists source types with descriptions', () => {
    const r = pollect(['sources']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Dummy\s+A fixed value/m);
  });

  it('prints a JSON schema that describes executors and every source type', () => {
    const r = pollect(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as { properties: Record<string, { items?: { properties?: { sources?: { items?: { allOf?: unknown[] } } } } }> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['tickTime', 'writer', 'writers', 'executors']));
    expect(schema.properties.executors!.items!.properties!.sources!.items!.allOf!.length).toBeGreaterThanOrEqual(1);
  });

  it('--version prints the package version', () => {
    expect(pollect(['--version']).stdout.trim()).toBe(pkg.version);
  });
});
