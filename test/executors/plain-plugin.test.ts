// The loader takes any class with a probe() method; one that does not extend Source (no config
// kept, no init or shutdown) still runs.
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/net.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

describe('a plugin class that does not extend Source', () => {
  it('is probed, named and shut down like any other', async () => {
    writeFileSync(path.join(tmp.dir, 'PlainSource.mjs'), 'export class PlainSource { probe() { return 3; } }\n');
    const config = path.join(tmp.dir, 'c.json');
    writeFileSync(config, JSON.stringify({ executors: [{ collection: 'c', sources: [{ type: './PlainSource.mjs', name: 'x', timeout: 2 }] }] }));
    const r = await cli(['-c', config, '--dry-run', '--once']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^c\.Plain\.x 3 \d+$/m);
  });
});
