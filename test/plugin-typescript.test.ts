// TypeScript plugins through the installed build (bin/pollect.js, dist/): on Node 22.18+ and 24
// Node strips the types itself, and esbuild takes the files Node refuses; on older Node esbuild
// takes them all. The same plugins load the same way on both (CI runs this under Node 20 and 24).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnCli } from './helpers/cli.js';
import { tempDir } from './helpers/net.js';

const PLUGINS: Record<string, string> = {
  // Only types to erase: Node strips it where it can.
  'PlainSource.ts': `import { Source, type SourceConfig } from 'pollect';
interface C extends SourceConfig { start: number }
export class PlainSource extends Source<C> {
  private n: number = 0;
  probe(): number { return this.config.start + this.n++; }
}
`,
  // An enum and a parameter property: more than erasing, which Node refuses.
  'EnumSource.ts': `import { Source, type PluginContext, type SourceConfig } from 'pollect';
enum Level { Low = 1, High = 2 }
class Holder { constructor(readonly level: Level) {} }
export class EnumSource extends Source {
  private readonly h: Holder;
  constructor(config: SourceConfig, context: PluginContext) { super(config, context); this.h = new Holder(Level.High); }
  probe(): number { return this.h.level; }
}
`,
  // A type imported without \`type\`: Node keeps the import, which pollect does not export.
  'TypeOnlySource.ts': `import { Source, SourceConfig } from 'pollect';
export class TypeOnlySource extends Source<SourceConfig> { probe(): number { return 3; } }
`,
  'BrokenSource.ts': `import { Source } from 'pollect';
export class BrokenSource extends Source { probe(): number { return (1 +; } }
`,
};

const tmp = tempDir('pollect-tsplugins-');
afterAll(() => tmp.remove());
mkdirSync(path.join(tmp.dir, 'plugins'));
for (const [name, text] of Object.entries(PLUGINS)) writeFileSync(path.join(tmp.dir, 'plugins', name), text);

function config(name: string, types: string[]): string {
  const file = path.join(tmp.dir, name);
  const sources = types.map((type) => (type === 'Plain' ? { type, start: 10 } : { type }));
  writeFileSync(file, JSON.stringify({ pluginDirs: ['plugins'], selfMetrics: false, writer: { type: 'DryRun' }, executors: [{ collection: 'x', sources }] }));
  return file;
}

const nodeStrips = Boolean((process.features as { typescript?: unknown }).typescript);

describe(`TypeScript plugins on Node ${process.version} (${nodeStrips ? 'Node strips types' : 'esbuild strips types'})`, () => {
  it('load whether Node can strip them or not: plain types, an enum and a parameter property, a type imported as a value', () => {
    const r = spawnCli(['-c', config('ok.json', ['Plain', 'Enum', 'TypeOnly']), '--once']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['x.Plain 10', 'x.Enum 2', 'x.TypeOnly 3', '']);
  });

  it('a syntax error is a config error naming the file, line and column', () => {
    const r = spawnCli(['-c', config('broken.json', ['Broken']), '--check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `cannot load plugin ${path.join(tmp.dir, 'plugins/BrokenSource.ts')}: ${path.join(tmp.dir, 'plugins/BrokenSource.ts')}:2:73: Unexpected ";"`,
    );
  });
});
