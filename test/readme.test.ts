// The README is part of the product: its commands work, and every source and writer is documented.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sourceRegistry } from '../src/sources/registry.js';
import { writerRegistry } from '../src/writers/registry.js';

const root = path.resolve(__dirname, '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

interface Docs {
  rooms(kind: string): { type: string; room: string }[];
  render(text: string): string;
}

describe('README', () => {
  it('shows the two commands', () => {
    expect(readme).toContain('npm ci && npx pollect -c pollect.json --dry-run --once');
    expect(readme).toMatch(/^npm test\b/m);
  });

  it('has a section for every registered source and writer, up to date with its room (npm run docs)', async () => {
    const docs = (await import(path.join(root, 'scripts/docs.mjs'))) as Docs;
    for (const [kind, registry] of [['sources', sourceRegistry], ['writers', writerRegistry]] as const) {
      const rooms = docs.rooms(kind);
      expect(rooms.map((r) => r.type).sort()).toEqual(Object.keys(registry).sort());
      for (const { type, room } of rooms) {
        const file = path.join(root, 'src', kind, room, 'README.md');
        expect(existsSync(file), `${file} documents ${type}`).toBe(true);
        expect(readFileSync(file, 'utf8'), `${file} has a section for ${type}`).toContain(`\`${type}\``);
      }
    }
    expect(docs.render(readme) === readme, 'README.md is stale: run npm run docs').toBe(true);
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
});
