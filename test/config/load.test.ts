import { describe, expect, it } from 'vitest';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { buildConfig, loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';
import { redact } from '../../src/log.js';
import { tempDir } from '../helpers/net.js';

const ok = (sources: unknown[] = [{ type: 'Dummy' }], extra: Record<string, unknown> = {}) => ({
  writers: [{ type: 'DryRun' }],
  executors: [{ collection: 'c', sources }],
  ...extra,
});

async function problems(config: unknown, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await buildConfig(config, '/tmp/pollect-test/config.json', { env });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

describe('a valid config', () => {
  it('is resolved with defaults', async () => {
    const cfg = await buildConfig(ok([{ type: 'Dummy', name: 'x', labels: { a: 'b' } }]), '/etc/pollect/c.json', {});
    expect(cfg.tickTime).toBe(10);
    expect(cfg.configDir).toBe('/etc/pollect');
    expect(cfg.executors[0]).toMatchObject({ collection: 'c', tickTime: 10, maxBackoff: 300, path: 'executors[0]' });
    expect(cfg.executors[0]!.sources[0]).toMatchObject({ typeName: 'Dummy', path: 'executors[0].sources[0]' });
    expect(cfg.writers.map((w) => w.typeName)).toEqual(['DryRun']);
  });

  it("an executor's own writers replace the global ones; `writer` and `writers` combine", async () => {
    const cfg = await buildConfig(
      {
        tickTime: 2,
        writer: { type: 'DryRun' },
        writers: [{ type: 'DryRun', format: 'json' }],
        executors: [
          { sources: [], writer: { type: 'DryRun', format: 'json' } },
          { sources: [], tickTime: 7 },
        ],
      },
      '/x/c.json',
      {},
    );
    expect(cfg.writers).toHaveLength(2);
    expect(cfg.executors[0]!.writers).toHaveLength(1);
    expect(cfg.executors[0]!.collection).toBe('pollect');
    expect(cfg.executors[1]!.writers).toBeUndefined();
    expect(cfg.executors[1]!.tickTime).toBe(7);
    expect(cfg.executors[0]!.tickTime).toBe(2);
  });

  it('substitutes environment variables before validation, so a number can come from the environment only as a string param', async () => {
    const cfg = await buildConfig(ok([{ type: 'Dummy', name: '${WHO}' }]), '/x/c.json', { env: { WHO: 'me' } });
    expect(cfg.executors[0]!.sources[0]!.config.name).toBe('me');
  });

  it('registers values under secret-looking keys so they are redacted everywhere', async () => {
    await buildConfig(ok([{ type: './nope.js', password: 'hunter2-secret' }]), '/x/c.json', {}).catch(() => {});
    expect(redact('login failed for hunter2-secret')).toBe('login failed for ***');
  });
});

// Each malformed config and the exact problem lines it must produce.
const CASES: [string, unknown, string[]][] = [
  ['no executors', { writers: [{ type: 'DryRun' }] }, ['(top level): executors: is required'.replace('(top level): ', '')]],
  ['executors not a list', { executors: {} }, ['executors: must be a list']],
  ['empty executors', { executors: [] }, ['executors: must NOT have fewer than 1 items']],
  ['negative tickTime', ok(undefined, { tickTime: -5 }), ['tickTime: must be >= 0.1']],
  ['absurd tickTime (35 days)', ok(undefined, { tickTime: 3e6 }), ['tickTime: must be <= 2678400']],
  [
    'executor tickTime below the minimum',
    { writers: [{ type: 'DryRun' }], executors: [{ tickTime: 0.01, sources: [] }] },
    ['executors[0].tickTime: must be >= 0.1'],
  ],
  ['absurd probe timeout', ok([{ type: 'Dummy', timeout: 1e7 }]), ['executors[0].sources[0].timeout: must be <= 2678400']],
  ['tickTime as a string', ok(undefined, { tickTime: '10' }), ['tickTime: must be a number']],
  ['unknown top-level key', ok(undefined, { tickTim: 3 }), ['(top level): unknown key "tickTim" (did you mean "tickTime"?)']],
  [
    'unknown executor key',
    { writers: [{ type: 'DryRun' }], executors: [{ sources: [], colection: 'x' }] },
    ['executors[0]: unknown key "colection" (did you mean "collection"?)'],
  ],
  ['executor without sources', { writers: [{ type: 'DryRun' }], executors: [{ collection: 'x' }] }, ['executors[0].sources: is required']],
  ['source without type', ok([{ name: 'x' }]), ['executors[0].sources[0].type: is required']],
  ['unknown source type', ok([{ type: 'Dumy' }]), ['executors[0].sources[0].type: unknown source type "Dumy" (did you mean "Dummy"?)']],
  ['unknown source param', ok([{ type: 'Dummy', sleeep: 1 }]), ['executors[0].sources[0]: unknown key "sleeep" (did you mean "sleep"?)']],
  ['wrong param type', ok([{ type: 'Dummy', sleep: 'long' }]), ['executors[0].sources[0].sleep: must be a number']],
  ['negative param', ok([{ type: 'Dummy', sleep: -1 }]), ['executors[0].sources[0].sleep: must be >= 0']],
  [
    'value neither number nor record',
    ok([{ type: 'Dummy', value: 'x' }]),
    ['executors[0].sources[0].value: must be a number, or a numeric string, or an object'],
  ],
  ['labels not strings', ok([{ type: 'Dummy', labels: { env: 1 } }]), ['executors[0].sources[0].labels.env: must be a string']],
  ['negative source timeout', ok([{ type: 'Dummy', timeout: 0 }]), ['executors[0].sources[0].timeout: must be > 0']],
  ['unknown writer', { writers: [{ type: 'DryRn' }], executors: [{ sources: [] }] }, ['writers[0].type: unknown writer type "DryRn" (did you mean "DryRun"?)']],
  [
    'unknown writer param',
    { writer: { type: 'DryRun', fromat: 'json' }, executors: [{ sources: [] }] },
    ['writer: unknown key "fromat" (did you mean "format"?)'],
  ],
  ['bad enum', { writer: { type: 'DryRun', format: 'xml' }, executors: [{ sources: [] }] }, ['writer.format: must be one of "text", "json"']],
  [
    'no writer at all',
    { executors: [{ sources: [{ type: 'Dummy' }] }] },
    ['executors[0]: no writer: add "writer" or "writers" (at the top level or in the executor), or run with --dry-run'],
  ],
  [
    'missing env variable',
    ok([{ type: 'Dummy', name: '${POLLECT_NOT_SET}' }]),
    [
      'executors[0].sources[0].name: environment variable POLLECT_NOT_SET is not set (write ${POLLECT_NOT_SET:-default} for a default, $${POLLECT_NOT_SET} for a literal ${POLLECT_NOT_SET})',
    ],
  ],
  ['plugin file missing', ok([{ type: './plugins/Nope.ts' }]), ['executors[0].sources[0].type: plugin file not found: /tmp/pollect-test/plugins/Nope.ts']],
  ['config not an object', [1, 2], ['/tmp/pollect-test/config.json: the config must be an object with "executors"']],
  [
    'several problems at once',
    { tickTime: 0, writers: [{ type: 'DryRun' }], executors: [{ sources: [{ type: 'Dummy', value: 'a' }, { type: 'Nope' }] }] },
    [
      'tickTime: must be >= 0.1',
      'executors[0].sources[0].value: must be a number, or a numeric string, or an object',
      'executors[0].sources[1].type: unknown source type "Nope"',
    ],
  ],
];

describe('malformed configs name the bad path', () => {
  it.each(CASES)('%s', async (_title, config, expected) => {
    expect(await problems(config)).toEqual(expected);
  });
});

describe('writers', () => {
  it('a config without writers is fine for --dry-run', async () => {
    const cfg = await buildConfig({ executors: [{ sources: [{ type: 'Dummy' }] }] }, '/x/c.json', { env: {}, writersOptional: true });
    expect(cfg.writers).toEqual([]);
  });
});

describe('loadConfig from a file', () => {
  it('reads YAML and JSON by name', async () => {
    const t = tempDir();
    try {
      writeFileSync(path.join(t.dir, 'a.yml'), 'tickTime: 3\nwriter: { type: DryRun }\nexecutors:\n  - sources:\n      - type: Dummy\n');
      const cfg = await loadConfig(path.join(t.dir, 'a'));
      expect(cfg.tickTime).toBe(3);
      expect(cfg.file).toBe(path.join(t.dir, 'a.yml'));
    } finally {
      t.remove();
    }
  });

  it('reads yes/no/on/off as booleans where a boolean is expected in YAML (as PyYAML does), and only there', async () => {
    const t = tempDir();
    try {
      const yml = [
        'selfMetrics: off',
        'writer: { type: DryRun }',
        'executors:',
        '  - sources:',
        '      - { type: Interface, includeTotal: yes, labels: { switch: on } }',
        '      - { type: Process, procRegex: node, memory: No, load: ON }',
        '      - { type: Dummy, name: "yes" }',
      ].join('\n');
      writeFileSync(path.join(t.dir, 'p.yml'), yml);
      const cfg = await loadConfig(path.join(t.dir, 'p.yml'));
      expect(cfg.selfMetrics).toBe(false);
      const [iface, proc, dummy] = cfg.executors[0]!.sources.map((s) => s.config as unknown as Record<string, unknown>);
      expect(iface).toMatchObject({ includeTotal: true, labels: { switch: 'on' } });
      expect(proc).toMatchObject({ memory: false, load: true });
      expect(dummy).toMatchObject({ name: 'yes' });
      // JSON is not YAML: a string there stays a string (and is refused where a boolean goes).
      writeFileSync(
        path.join(t.dir, 'p.json'),
        JSON.stringify({ writer: { type: 'DryRun' }, executors: [{ sources: [{ type: 'Interface', includeTotal: 'yes' }] }] }),
      );
      const err = await loadConfig(path.join(t.dir, 'p.json')).catch((e: unknown) => e);
      expect((err as ConfigError).problems).toEqual(['executors[0].sources[0].includeTotal: must be true or false']);
    } finally {
      t.remove();
    }
  });

  it('resolves plugin paths relative to the config file and finds <Type>Source in pluginDirs', async () => {
    const t = tempDir();
    try {
      mkdirSync(path.join(t.dir, 'plugins'));
      writeFileSync(
        path.join(t.dir, 'plugins', 'RandomSource.mjs'),
        'export class RandomSource { constructor(c) { this.config = c; } probe() { return Math.random(); } }\n',
      );
      writeFileSync(
        path.join(t.dir, 'c.json'),
        JSON.stringify({
          pluginDirs: ['plugins'],
          writer: { type: 'DryRun' },
          executors: [{ sources: [{ type: 'Random', max: 3 }, { type: './plugins/RandomSource.mjs' }, { type: 'Randon' }] }],
        }),
      );
      const err = await loadConfig(path.join(t.dir, 'c.json')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual(['executors[0].sources[2].type: unknown source type "Randon" (did you mean "Random"?)']);
    } finally {
      t.remove();
    }
  });
});
