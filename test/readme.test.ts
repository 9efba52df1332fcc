// The README is part of the product: its commands work, it stays short, and its table lists every
// built-in source and writer, up to date with their classes (npm run docs).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sourceRegistry } from '../src/sources/registry.js';
import { writerRegistry } from '../src/writers/registry.js';

const root = path.resolve(__dirname, '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

interface Docs {
  folders(kind: string): { type: string; folder: string }[];
  render(text: string, registries: { sources: typeof sourceRegistry; writers: typeof writerRegistry }): Promise<string>;
}

describe('README', () => {
  it('shows the two commands, and is read in ten minutes', () => {
    expect(readme).toContain('npm ci && npx pollect -c pollect.json --dry-run --once');
    expect(readme).toMatch(/^scripts\/setup-test-env\.sh && npm test\b/m);
    expect(readme.split('\n').length).toBeLessThanOrEqual(300);
  });

  it('lists every registered source and writer with a link to its README, up to date (npm run docs)', async () => {
    const docs = (await import(path.join(root, 'scripts/docs.mjs'))) as Docs;
    for (const [kind, registry] of [
      ['sources', sourceRegistry],
      ['writers', writerRegistry],
    ] as const) {
      const folders = docs.folders(kind);
      expect(folders.map((f) => f.type).sort()).toEqual(Object.keys(registry).sort());
      for (const { type, folder } of folders) {
        const link = `src/${kind}/${folder}/README.md`;
        expect(existsSync(path.join(root, link)), `${link} documents ${type}`).toBe(true);
        expect(readme).toContain(`| [\`${type}\`](${link}) |`);
      }
    }
    const fresh = await docs.render(readme, { sources: sourceRegistry, writers: writerRegistry });
    expect(fresh === readme, 'README.md is stale: run npm run docs').toBe(true);
  });

  it('links only to files that exist', () => {
    const links = [...readme.matchAll(/\]\(([^)#\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
    expect(links.length).toBeGreaterThan(30);
    for (const link of links) expect(existsSync(path.join(root, link)), link).toBe(true);
  });

  it('shows the example source as it is in examples/plugins/RandomSource.ts', () => {
    const code = readFileSync(path.join(root, 'examples/plugins/RandomSource.ts'), 'utf8').replace(/^(\/\/.*\n)+/, '');
    expect(readme).toContain(`\`\`\`ts\n${code}\`\`\``);
  });

  it('the sample pollect.json runs with --dry-run --once and prints host samples', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'bin/pollect.js'), '-c', path.join(root, 'pollect.json'), '--dry-run', '--once'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^pollect\.LoadAvg\{time="short"\} \d+(\.\d+)? \d{13}$/m);
    expect(r.stdout).toMatch(/^pollect\.MemoryUsage\{type="available"\} \d+ \d{13}$/m);
    expect(r.stdout).toMatch(/^pollect\.DiskUsage\{disk="_",type="total"\} \d+ \d{13}$/m);
  });

  it('the Configuration example (global labels) and the filter example pass --check as they are printed', () => {
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Names'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(yaml).toMatch(/^labels: \{ host: "\$\{HOSTNAME\}" \}/m);
    const filter = /`(filter: \{[^`]*\})`/.exec(section)?.[1];
    expect(filter).toBeDefined();
    const dir = mkdtempSync(path.join(tmpdir(), 'pollect-readme-'));
    try {
      const check = (text: string) => {
        const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yml`);
        writeFileSync(file, text);
        return spawnSync(process.execPath, [path.join(root, 'bin/pollect.js'), '-c', file, '--check'], {
          encoding: 'utf8',
          timeout: 30_000,
          env: { ...process.env, HOSTNAME: 'web01' },
        });
      };
      const whole = check(yaml!);
      expect(whole.stderr).toBe('');
      expect(whole.status).toBe(0);
      // The filter example on an executor and on a writer, where the table says it goes.
      const withFilter = check(`writer: { type: DryRun, ${filter} }\nexecutors:\n  - ${filter}\n    sources: [{ type: LoadAvg }]\n`);
      expect(withFilter.stderr).toBe('');
      expect(withFilter.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
