// The validators precompiled at build time (dist/config/validators/) must judge configs exactly
// as ajv compiling the same schemas at run time does.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { AJV_OPTIONS, formatErrors, precompiledName } from '../../src/config/validate.js';
import { frameSchema, sourceParamsSchema, writerParamsSchema } from '../../src/config/schema.js';
import { sourceRegistry } from '../../src/sources/registry.js';
import { writerRegistry } from '../../src/writers/registry.js';
import type { JsonSchema } from '../../src/sdk/index.js';

const built = path.resolve(__dirname, '../../dist/config/validators');

/** The precompiled validators of these keys, each from its own module. */
async function precompiled(keys: string[]): Promise<Record<string, ValidateFunction>> {
  const out: Record<string, ValidateFunction> = {};
  for (const key of keys) {
    const name = precompiledName(key);
    const file = path.join(built, `${name}.js`);
    expect(existsSync(file), `npm run build writes ${file}`).toBe(true);
    out[name] = ((await import(pathToFileURL(file).href)) as Record<string, ValidateFunction>)[name]!;
  }
  return out;
}

function judge(fn: ValidateFunction, data: unknown): { ok: boolean; problems: string[]; data: unknown } {
  const copy = structuredClone(data);
  const ok = fn(copy);
  return { ok, problems: ok ? [] : formatErrors(fn.errors ?? [], ['at']), data: copy };
}

describe('precompiled validators', () => {
  it('exist for the frame and every built-in source and writer', async () => {
    const keys = ['frame', ...Object.keys(sourceRegistry).map((t) => `source/${t}`), ...Object.keys(writerRegistry).map((t) => `writer/${t}`)];
    const mod = await precompiled(keys);
    for (const key of keys) expect(typeof mod[precompiledName(key)], key).toBe('function');
  });

  it('give the same verdicts, problems and filled-in defaults as ajv at run time', async () => {
    const mod = await precompiled(['frame', 'source/Dummy', 'source/Http', 'writer/Graphite', 'writer/DryRun']);
    const ajv = new Ajv(AJV_OPTIONS);
    const cases: [string, JsonSchema, unknown[]][] = [
      [
        'frame',
        frameSchema(),
        [{ executors: [] }, { tickTime: -1, executors: [{ sources: [], colection: 1 }] }, { executors: [{ sources: [{ type: 'X' }] }] }, 'nope'],
      ],
      [
        'source/Dummy',
        sourceParamsSchema((await sourceRegistry.Dummy!()).schema),
        [{ type: 'Dummy' }, { type: 'Dummy', value: 'x', sleeep: 1 }, { type: 'Dummy', labels: { a: 1 }, timeout: 0 }],
      ],
      [
        'source/Http',
        sourceParamsSchema((await sourceRegistry.Http!()).schema),
        [{ type: 'Http', url: 'http://127.0.0.1/' }, { type: 'Http', url: '' }, { type: 'Http' }],
      ],
      [
        'writer/Graphite',
        writerParamsSchema((await writerRegistry.Graphite!()).schema),
        [
          { type: 'Graphite', host: '127.0.0.1' },
          { type: 'Graphite', protocol: 'udp' },
        ],
      ],
      ['writer/DryRun', writerParamsSchema((await writerRegistry.DryRun!()).schema), [{ type: 'DryRun' }, { type: 'DryRun', format: 'xml' }]],
    ];
    for (const [key, schema, inputs] of cases) {
      const runtime = ajv.compile(schema);
      const pre = mod[precompiledName(key)]!;
      for (const input of inputs) expect(judge(pre, input), `${key} ${JSON.stringify(input)}`).toEqual(judge(runtime, input));
    }
  });
});

describe('merged plugin schemas', () => {
  // ajv caches compiled validators by schema object: a merged schema built anew at every config
  // load (a reload, a plugin's own schema, each test) was compiled again, and every copy kept.
  it('are built once per plugin schema and type', async () => {
    const http = (await sourceRegistry.Http!()).schema;
    expect(sourceParamsSchema(http)).toBe(sourceParamsSchema(http));
    expect(sourceParamsSchema(http, 'Http')).toBe(sourceParamsSchema(http, 'Http'));
    expect(sourceParamsSchema(http, 'Http')).not.toBe(sourceParamsSchema(http));
    expect(writerParamsSchema(undefined)).toBe(writerParamsSchema(undefined));
    expect(writerParamsSchema(undefined)).not.toBe(sourceParamsSchema(undefined));
  });
});
