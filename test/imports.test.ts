// The layering of src/: config -> executors -> sources and writers, all on top of the SDK
// (src/sdk) and the core helpers (src/core). No module imports itself back through others, and no
// plugin reaches into the config loader or the executors.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const src = path.resolve(__dirname, '../src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Relative imports of a module (static, re-exports, type-only and dynamic), as src-relative paths. */
function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gm),
    ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => path.relative(src, path.resolve(path.dirname(file), s)).replace(/\.js$/, '.ts'));
}

const graph = new Map(tsFiles(src).map((f) => [path.relative(src, f), importsOf(f)]));

/** Every cycle, each once, as the list of modules around it. */
function cycles(g: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of g.get(node) ?? []) {
      if (!g.has(next)) continue;
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...g.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

describe('imports in src/', () => {
  it('finds the imports of a module, whatever their form', () => {
    const file = path.join(src, 'sources/x/index.ts');
    const text =
      "import { a } from '../../sdk/index.js';\nimport type { B } from './b.js';\nexport { c } from '../lib/c.js';\nconst d = () => import('node:fs');\nconst e = () => import('./e.js');\nimport {\n  f,\n} from '../../config/load.js';\n";
    expect(importsOf(file, text).sort()).toEqual(['config/load.ts', 'sdk/index.ts', 'sources/lib/c.ts', 'sources/x/b.ts', 'sources/x/e.ts']);
  });

  it('finds a cycle', () => {
    const g = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(cycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });

  it('has no import cycles', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(cycles(graph).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('sources and writers use the SDK, never the config loader or the executors', () => {
    const offending: string[] = [];
    for (const [file, deps] of graph) {
      if (!file.startsWith('sources/') && !file.startsWith('writers/')) continue;
      for (const dep of deps) if (dep.startsWith('config/') || dep.startsWith('executors/') || dep === 'cli.ts') offending.push(`${file} imports ${dep}`);
    }
    expect(offending).toEqual([]);
  });
});
