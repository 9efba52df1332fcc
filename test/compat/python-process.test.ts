// The Python pollect's tests/test_ProcessSource.py (../shared/fixtures/pollect-tests/tests/, MIT),
// ported: `procRegex: python.+` against a running python3; process_count > 0 and the first two
// values (load_percent, virtual_memory of the first match) are there on the first probe.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { ProcessSource } from '../../src/sources/process/index.js';
import { build } from '../helpers/plugin.js';
import { probeOnce } from '../helpers/probe.js';

const py = spawn('python3', ['-c', 'import time; time.sleep(60)'], { stdio: 'ignore' });
const started = new Promise((resolve, reject) => py.once('spawn', resolve).once('error', reject));
afterAll(() => {
  py.kill();
});

describe('test_ProcessSource.test_simple_query', () => {
  it('finds python, with load_percent (0 on the first probe) and virtual_memory', async () => {
    await started;
    const data = await probeOnce(build(ProcessSource, { type: 'Process', name: 'test', procRegex: 'python.+' }));
    expect(data.at(-1)).toMatchObject({ name: 'process_count', labels: { pidx: 'all' } });
    expect(data.at(-1)!.value).toBeGreaterThan(0);
    expect(data[0]).toMatchObject({ name: 'load_percent', value: 0, labels: { pidx: '0' } });
    expect(data[1]).toMatchObject({ name: 'virtual_memory', labels: { pidx: '0' } });
    expect(data[1]!.value).toBeGreaterThan(0);
  });
});
