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

/** Modules of src/ that import node:http or node:https as an ES module (type-only imports are erased). */
function esHttpImporters(files: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of files) {
    const value = [...text.matchAll(/^\s*import\s+(?!type\s)[^;]*?\sfrom\s+'node:https?'/gm), ...text.matchAll(/(?<!typeof )\bimport\(\s*'node:https?'\s*\)/g)];
    if (value.length > 0) out.push(file);
  }
  return out;
}

describe('node:http in src/', () => {
  it('finds an ES import of node:http or node:https, but not a type-only one', () => {
    const files = new Map([
      ['a.ts', "import http from 'node:http';\n"],
      ['b.ts', "import type { Server } from 'node:http';\n"],
      ['c.ts', "const https = await import('node:https');\n"],
      ['d.ts', "import {\n  createServer,\n} from 'node:https';\n"],
      ['e.ts', "export const http: typeof import('node:http') = require('node:http');\n"],
    ]);
    expect(esHttpImporters(files)).toEqual(['a.ts', 'c.ts', 'd.ts']);
  });

  // Node 22+ builds node:http's ES namespace by reading every export, which loads undici, TLS and
  // crypto through its lazy WebSocket getters (17 MB of RSS on Node 24): src/core/node-http.ts
  // loads it with require() for everyone.
  it('is loaded through src/core/node-http.ts only', () => {
    const files = new Map(tsFiles(src).map((f) => [path.relative(src, f), readFileSync(f, 'utf8')]));
    expect(esHttpImporters(files)).toEqual([]);
  });
});
