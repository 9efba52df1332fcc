// The skip policy for tests that need a server binary (test/helpers/servers.ts).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BINARIES, needs, skippedBinaries } from './helpers/servers.js';

describe('needs(binary)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('is true for a binary on PATH', () => {
    vi.stubEnv('POLLECT_TEST_SKIP', '');
    expect(needs('sh')).toBe(true);
  });

  it('fails for a missing binary, naming its package and how to skip it', () => {
    vi.stubEnv('POLLECT_TEST_SKIP', '');
    expect(() => needs('sh', 'pollect-no-such-server')).toThrow(
      'missing pollect-no-such-server (Debian/Ubuntu package pollect-no-such-server): run scripts/setup-test-env.sh, or skip the tests that need them with POLLECT_TEST_SKIP=pollect-no-such-server',
    );
  });

  it('is false, and says so, for a binary POLLECT_TEST_SKIP names', () => {
    vi.stubEnv('POLLECT_TEST_SKIP', ' snmpd , pollect-no-such-server');
    const said = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(skippedBinaries()).toEqual(['snmpd', 'pollect-no-such-server']);
    expect(needs('pollect-no-such-server')).toBe(false);
    expect(said).toHaveBeenCalledWith('pollect tests: skipping tests that need pollect-no-such-server (POLLECT_TEST_SKIP)\n');
  });

  it('scripts/setup-test-env.sh installs the package of every binary the tests need', () => {
    const script = readFileSync(path.resolve(__dirname, '../scripts/setup-test-env.sh'), 'utf8');
    const installed = /^PACKAGES="([^"]*)"/m.exec(script)?.[1]?.split(' ') ?? [];
    expect(installed.length).toBeGreaterThan(0);
    for (const pkg of new Set(Object.values(BINARIES))) expect(installed, pkg).toContain(pkg);
  });
});
