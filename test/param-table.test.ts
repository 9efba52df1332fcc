// Each plugin README's parameter table is generated from the plugin's schema (scripts/param-table.mjs)
// and must be up to date: `npm run docs` rewrites it.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { JsonSchema } from '../src/sdk/index.js';

interface ParamTable {
  START: string;
  END: string;
  paramTable(schema: JsonSchema | undefined): string;
  withParamTable(readme: string, schema: JsonSchema | undefined, file?: string): string;
  plugins(
    importFrom: (rel: string) => Promise<Record<string, unknown>>,
  ): Promise<{ type: string; file: string; load: () => Promise<{ schema?: JsonSchema }> }[]>;
}

const root = path.resolve(__dirname, '..');
const gen = (await import(path.join(root, 'scripts/param-table.mjs'))) as ParamTable;

describe('parameter tables', () => {
  it('render description, type, default and allowed values, nested params with dotted names', () => {
    const table = gen.paramTable({
      type: 'object',
      required: ['host'],
      properties: {
        host: { type: 'string', description: 'Host name' },
        port: { type: 'integer', minimum: 1, maximum: 65535, default: 80, description: 'Port' },
        mode: { type: 'string', enum: ['a', 'b'], default: 'a', description: 'x | y' },
        tls: { type: 'object', properties: { ca: { type: 'string', description: 'CA file' } } },
        list: { type: 'array', items: { type: 'string' }, default: [] },
      },
    });
    expect(table.split('\n')).toEqual([
      '| Param | Type | Default | Description |',
      '|---|---|---|---|',
      '| `host` | string | required | Host name |',
      '| `port` | integer 1–65535 | `80` | Port |',
      '| `mode` | `a` \\| `b` | `a` | x \\| y |',
      '| `tls` | object | — |  |',
      '| `tls.ca` | string | — | CA file |',
      '| `list` | list of strings | `[]` |  |',
    ]);
    expect(gen.paramTable({ type: 'object' })).toBe('No params of its own.');
  });

  it('every source and writer README has its table, up to date with its schema (npm run docs)', async () => {
    const list = await gen.plugins((rel) => import(/* @vite-ignore */ `../src/${rel.replace(/\.js$/, '.ts')}`));
    expect(list.length).toBeGreaterThanOrEqual(28);
    for (const { type, file, load } of list) {
      const readme = readFileSync(file, 'utf8');
      const { schema } = await load();
      expect(readme.includes(gen.START) && readme.includes(gen.END), `${path.relative(root, file)} has the ${gen.START} markers`).toBe(true);
      expect(
        gen.withParamTable(readme, schema) === readme,
        `${type}: the table in ${path.relative(root, file)} is stale: run npm run build && npm run docs`,
      ).toBe(true);
    }
  });
});
