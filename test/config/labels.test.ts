// Global labels: a top-level `labels` map added to every sample (pollect's own metrics included),
// overridden by an executor's `labels`, which a source's own `labels` override in turn.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';
import { tempDir } from '../helpers/net.js';
import { cli } from '../helpers/cli.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

const CONFIG = {
  labels: { host: '${TEST_HOST}', env: 'prod', team: 'ops' },
  writer: { type: 'File', path: 'out.jsonl' },
  executors: [
    {
      collection: 'a',
      labels: { env: 'staging' },
      sources: [
        { type: 'Dummy', name: 'own', value: 1, labels: { env: 'dev', extra: 'x' } },
        { type: 'Dummy', name: 'plain', value: 2 },
      ],
    },
    { collection: 'b', sources: [{ type: 'Dummy', value: 3 }] },
  ],
};

describe('global labels', () => {
  it('are merged under the executor and source labels, each level overriding the one above', async () => {
    const cfg = await buildConfig(CONFIG, '/x/c.json', { env: { TEST_HOST: 'web01' } });
    const labels = cfg.executors.map((e) => e.sources.map((s) => s.config.labels));
    expect(labels).toEqual([
      [
        { host: 'web01', env: 'dev', team: 'ops', extra: 'x' },
        { host: 'web01', env: 'staging', team: 'ops' },
      ],
      [{ host: 'web01', env: 'prod', team: 'ops' }],
    ]);
    expect(cfg.labels).toEqual({ host: 'web01', env: 'prod', team: 'ops' });
    // Without any, a source's config is left as it was.
    const plain = await buildConfig({ writer: { type: 'DryRun' }, executors: [{ sources: [{ type: 'Dummy' }] }] }, '/x/c.json', {});
    expect(plain.executors[0]!.sources[0]!.config.labels).toBeUndefined();
  });

  it('a label value that is not a string is a config error with its path', async () => {
    const bad = { ...CONFIG, labels: { host: 1 }, executors: [{ labels: ['x'], sources: [] }] };
    const err = await buildConfig(bad, '/x/c.json', { env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      expect.stringMatching(/^labels\.host: must be a string/),
      expect.stringMatching(/^executors\[0\]\.labels: must be an object/),
    ]);
  });

  it("reach the writers on every sample, pollect's own metrics included (the built daemon)", async () => {
    const t = tempDir();
    cleanups.push(t.remove);
    const file = path.join(t.dir, 'c.json');
    writeFileSync(file, JSON.stringify(CONFIG));
    const r = await cli(['-c', file, '--once'], { TEST_HOST: 'web01' });
    expect(r.code).toBe(0);
    const lines = readFileSync(path.join(t.dir, 'out.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; labels: Record<string, string> });
    const of = (name: string) => lines.find((l) => l.name === name)?.labels;
    expect(of('a.Dummy.own')).toEqual({ host: 'web01', env: 'dev', team: 'ops', extra: 'x' });
    expect(of('a.Dummy.plain')).toEqual({ host: 'web01', env: 'staging', team: 'ops' });
    expect(of('b.Dummy')).toEqual({ host: 'web01', env: 'prod', team: 'ops' });
    const self = lines.filter((l) => l.name.startsWith('pollect.source.success'));
    expect(self.length).toBe(3);
    for (const l of self) expect(l.labels).toMatchObject({ host: 'web01', env: 'prod', team: 'ops' });
  });
});
