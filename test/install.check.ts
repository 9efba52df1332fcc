// The package as a user gets it: `npm pack`, then `npm install -g` of the tarball into an empty
// prefix (dependencies from the npm cache where it has them, else the registry: a global install
// resolves them afresh, as a user's does), run from another directory with nothing but node and
// the installed `pollect` on PATH (no TypeScript, no build). Also: the dependencies that serve one
// optional source stay off the start-up path, and the layout `npm link` makes runs too.
// Measured here on 2026-11-30 (npm 11.19): 126 packages, 53 MB on disk (esbuild 22 MB, dockerode
// and its gRPC/ssh2 11 MB). 2026-12-01: 185 packages, 78.6 MB, after the libraries the brief asks
// for protocols: mqtt (42 packages, 13 MB), modbus-serial (18 with its optional serialport, 4 MB),
// jose (1). The test fails if the install grows far past that.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers/net.js';

const ROOT = path.resolve(__dirname, '..');
/** Dependencies of one optional source or feature each: pollect must start and run without them. */
const LAZY = [
  'dockerode',
  'ioredis',
  'net-snmp',
  'systeminformation',
  'esbuild',
  'fast-xml-parser',
  'axios',
  'bcryptjs',
  'mqtt',
  'modbus-serial',
  'jose',
  'ws',
  'protobufjs',
];
const MAX_PACKAGES = 210;
const MAX_MB = 95;

let tmp: { dir: string; remove: () => void };
let prefix: string;
let installed: string;
/** PATH for the runs: the installed launcher and node, nothing else. */
let runPath: string;
let work: string;

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync('pollect', args, { cwd: work, encoding: 'utf8', timeout: 60_000, env: { HOME: work, ...env, PATH: env.PATH ?? runPath } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error };
}

function du(dir: string): number {
  return Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]) / 1024;
}

/** Directories that hold a package, below node_modules (scoped ones included). */
function packages(dir: string): string[] {
  const nm = path.join(dir, 'node_modules');
  let names: string[];
  try {
    names = readdirSync(nm).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const p = path.join(nm, n);
    const own = n.startsWith('@') ? readdirSync(p).map((s) => path.join(p, s)) : [p];
    return own.flatMap((q) => [q, ...packages(q)]);
  });
}

beforeAll(() => {
  tmp = tempDir('pollect-install-');
  prefix = path.join(tmp.dir, 'prefix');
  work = path.join(tmp.dir, 'elsewhere');
  const nodeDir = path.join(tmp.dir, 'node-only');
  mkdirSync(work);
  mkdirSync(nodeDir);
  symlinkSync(process.execPath, path.join(nodeDir, 'node'));
  runPath = `${path.join(prefix, 'bin')}:${nodeDir}`;
  // dist/ is built by `npm test` before the suite; --ignore-scripts: packing must not rebuild it.
  const tgz = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', tmp.dir], { cwd: ROOT, encoding: 'utf8' }).trim();
  // npm and node on PATH, as on a user's machine; the project's node_modules/.bin is not.
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` };
  const r = spawnSync('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', path.join(tmp.dir, tgz)], {
    cwd: tmp.dir,
    env,
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (r.status !== 0) throw new Error(`npm install -g failed :\n${r.stderr}`);
  installed = path.join(prefix, 'lib/node_modules/pollect');
}, 300_000);

afterAll(() => tmp?.remove());

describe('npm install -g of the packed tarball', () => {
  it('installs no build tools and a package of bounded size', () => {
    const all = packages(installed);
    const mb = du(installed);
    process.stderr.write(`pollect install: ${all.length} packages, ${mb.toFixed(1)} MB on disk\n`);
    expect(all.length).toBeLessThan(MAX_PACKAGES);
    expect(mb).toBeLessThan(MAX_MB);
    const names = new Set(all.map((p) => path.relative(path.join(installed, 'node_modules'), p)));
    for (const dev of ['typescript', 'vitest', '@biomejs/biome', 'kubernetes-models']) expect(names.has(dev), dev).toBe(false);
    expect(readdirSync(path.join(installed, 'dist'))).toContain('cli.js');
    expect(readdirSync(path.join(installed, 'contrib'))).toEqual(readdirSync(path.join(ROOT, 'contrib')));
  });

  it('runs from another directory with only node on PATH: --version, --check, --dry-run --once', () => {
    for (const tool of ['tsc', 'esbuild', 'vitest', 'npm'])
      expect(spawnSync('sh', ['-c', `command -v ${tool}`], { env: { PATH: runPath } }).status, tool).not.toBe(0);
    expect(run(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const sample = path.join(installed, 'pollect.json');
    const check = run(['-c', sample, '--check']);
    expect(check.stderr).toBe('');
    expect(check.stdout).toMatch(/pollect\.json: OK \(2 executor\(s\), \d+ source\(s\)\)/);
    const once = run(['-c', sample, '--dry-run', '--once']);
    expect(once.stderr).toBe('');
    expect(once.code).toBe(0);
    expect(once.stdout).toMatch(/^pollect\.LoadAvg\{time="short"\} [\d.]+ \d{13}$/m);
  });

  it('starts, checks and runs the sample without the dependencies of optional sources (they load lazily)', () => {
    const aside = path.join(tmp.dir, 'aside');
    mkdirSync(aside);
    const moved = LAZY.filter((d) => readdirSync(path.join(installed, 'node_modules')).includes(d));
    expect(moved).toEqual(LAZY);
    for (const d of moved) renameSync(path.join(installed, 'node_modules', d), path.join(aside, d));
    try {
      const sample = path.join(installed, 'pollect.json');
      expect(run(['-c', sample, '--check']).code).toBe(0);
      const once = run(['-c', sample, '--dry-run', '--once']);
      expect(once.stderr).toBe('');
      expect(once.code).toBe(0);
      const sources = run(['sources']);
      expect(sources.code).toBe(0);
      expect(sources.stdout).toMatch(/^Docker\s/m);
      // Where Node strips types itself (22.18+, 24), a TypeScript plugin needs no esbuild.
      if ((process.features as { typescript?: unknown }).typescript) {
        mkdirSync(path.join(work, 'plugins'), { recursive: true });
        writeFileSync(
          path.join(work, 'plugins/TwiceSource.ts'),
          "import { Source, type SourceConfig } from 'pollect';\nexport class TwiceSource extends Source<SourceConfig> {\n  probe(): number { return 2 * 21; }\n}\n",
        );
        writeFileSync(
          path.join(work, 'ts.yml'),
          'pluginDirs: [plugins]\nselfMetrics: false\nwriter: { type: DryRun }\nexecutors: [{ collection: t, sources: [{ type: Twice }] }]\n',
        );
        const ts = run(['-c', 'ts.yml', '--once']);
        expect(ts.stderr).toBe('');
        expect(ts.stdout).toMatch(/^t\.Twice 42 \d+$/m);
      }
    } finally {
      for (const d of moved) renameSync(path.join(aside, d), path.join(installed, 'node_modules', d));
    }
  });

  it('runs through the links `npm link` makes (bin -> package -> a checkout)', () => {
    const linkPrefix = path.join(tmp.dir, 'linked');
    mkdirSync(path.join(linkPrefix, 'bin'), { recursive: true });
    mkdirSync(path.join(linkPrefix, 'lib/node_modules'), { recursive: true });
    symlinkSync(ROOT, path.join(linkPrefix, 'lib/node_modules/pollect'));
    symlinkSync('../lib/node_modules/pollect/bin/pollect.js', path.join(linkPrefix, 'bin/pollect'));
    const nodeDir = runPath.split(':')[1]!;
    const r = run(['-c', path.join(ROOT, 'pollect.json'), '--check'], { PATH: `${path.join(linkPrefix, 'bin')}:${nodeDir}` });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
