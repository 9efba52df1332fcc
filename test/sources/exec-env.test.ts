// Exec's children get a minimal environment: a secret in pollect's own (OS_PASSWORD) is not
// readable by the script, in its environment or its /proc/<pid>/environ.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { ExecSource } from '../../src/sources/exec/index.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { tempDir } from '../helpers/net.js';
import { build } from '../helpers/plugin.js';

const tmp = tempDir('pollect-exec-env-');
afterAll(() => tmp.remove());

describe("Exec's environment", () => {
  it("holds PATH and the config's variables, never pollect's other ones unless passed", async () => {
    const script = path.join(tmp.dir, 'env.sh');
    writeFileSync(
      script,
      '#!/bin/sh\n' +
        'has() { if [ -n "$1" ]; then echo 1; else echo 0; fi; }\n' +
        'echo "path $(has "$PATH")"\n' +
        'echo "os_password $(has "$OS_PASSWORD")"\n' +
        'echo "os_auth_url $(has "$OS_AUTH_URL")"\n' +
        'echo "db_user $(has "$DB_USER")"\n' +
        'echo "environ_secret $(grep -c hunter22 /proc/$$/environ)"\n',
    );
    chmodSync(script, 0o755);
    // Stubbed for this test only (undone after it: test/helpers/file-guard.ts). Assigning process.env a copy
    // instead left the worker a plain object that vitest's own env stubs no longer restore.
    vi.stubEnv('OS_PASSWORD', 'hunter22');
    vi.stubEnv('OS_AUTH_URL', 'http://keystone.invalid');
    const src = build(ExecSource, { command: script, format: 'graphite', env: { DB_USER: 'u' }, passEnv: ['OS_AUTH_URL'] }, { configDir: tmp.dir });
    const samples = await probeOnce(src);
    expect(valueOf(samples, 'path')).toBe(1);
    expect(valueOf(samples, 'os_password')).toBe(0);
    expect(valueOf(samples, 'os_auth_url')).toBe(1);
    expect(valueOf(samples, 'db_user')).toBe(1);
    expect(valueOf(samples, 'environ_secret')).toBe(0);
  });
});
