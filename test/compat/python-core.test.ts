// The Python pollect's tests/test_Core.py and test_ConfigContainer.py (../shared/fixtures/
// pollect-tests/tests/, MIT), ported: what each asserts, on this project's loader and daemon.
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/load.js';
import { substituteEnv } from '../../src/config/env.js';
import { Daemon } from '../../src/executors/daemon.js';
import { createLogger } from '../../src/log.js';
import { CaptureWriter } from '../helpers/capture.js';

const log = createLogger('test', { level: 'error', write: () => {} });

async function runOnce(raw: object, env: NodeJS.ProcessEnv = {}): Promise<CaptureWriter> {
  const cfg = await buildConfig(raw, '/x/config.json', { env, writersOptional: true });
  const w = new CaptureWriter();
  await new Daemon(cfg, { dryRun: true, dryRunWriter: w, log }).runOnce();
  return w;
}

describe('test_Core.test_resolve', () => {
  it('Dummy value "${VALUE}" (VALUE=10) and "1": numeric strings are the numbers 10 and 1', async () => {
    const w = await runOnce(
      {
        tickTime: 1,
        selfMetrics: false,
        executors: [
          {
            collection: 'pollect',
            sources: [
              { type: 'Dummy', value: '${VALUE}' },
              { type: 'Dummy', value: '1' },
            ],
          },
        ],
      },
      { VALUE: '10' },
    );
    // Python: one write call, values '10' and '1' (strings there; numbers in every exposition).
    expect(w.batches).toHaveLength(1);
    expect(w.batches[0]!.points.map((p) => [p.name.id, p.value])).toEqual([
      ['pollect.Dummy', 10],
      ['pollect.Dummy', 1],
    ]);
  });

  it('a string that is not a number is a config error', async () => {
    await expect(buildConfig({ executors: [{ sources: [{ type: 'Dummy', value: 'ten' }] }] }, '/x/c.json', { env: {}, writersOptional: true })).rejects.toThrow(
      /sources\[0\]\.value: must be a number, or a numeric string, or an object/,
    );
  });
});

describe('test_ConfigContainer', () => {
  const config = { key: '${VALUE}', key2: 'someValue${VALUE}', key3: { test: 'other${VALUE}' }, key4: [{ test: '${VALUE}' }] };

  it('test_iteration and test_resolve: ${VALUE} in every string, nested objects and lists too', () => {
    const problems: string[] = [];
    expect(substituteEnv(config, { VALUE: 'hello' }, problems)).toEqual({
      key: 'hello',
      key2: 'someValuehello',
      key3: { test: 'otherhello' },
      key4: [{ test: 'hello' }],
    });
    expect(problems).toEqual([]);
  });

  it('test_missing: an unset variable is an error naming its key', () => {
    const problems: string[] = [];
    substituteEnv({ key: '${VALUE_UNUSED}', key2: 'someValue${VALUE}' }, { VALUE: 'hello' }, problems);
    expect(problems).toEqual([
      'key: environment variable VALUE_UNUSED is not set (write ${VALUE_UNUSED:-default} for a default, $${VALUE_UNUSED} for a literal ${VALUE_UNUSED})',
    ]);
  });
});
