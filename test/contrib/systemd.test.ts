// contrib/systemd/pollect.service: valid for systemd (`systemd-analyze verify`), hardened, and a
// reload that checks the config before it signals the daemon.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { needs } from '../helpers/servers.js';
import { tempDir } from '../helpers/net.js';

const UNIT = readFileSync(path.resolve(__dirname, '../../contrib/systemd/pollect.service'), 'utf8');

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** The unit, written where the test can point ExecStart at a launcher that exists (verify checks it). */
function unitFile(text = UNIT): string {
  const t = tempDir();
  cleanups.push(t.remove);
  const launcher = path.join(t.dir, 'pollect');
  writeFileSync(launcher, '#!/bin/sh\n');
  chmodSync(launcher, 0o755);
  const file = path.join(t.dir, 'pollect.service');
  writeFileSync(file, text.replaceAll('/usr/bin/pollect', launcher));
  return file;
}

function analyze(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** What `systemd-analyze verify` says about this unit (it also warns about the machine's own units). */
function verify(file: string): string[] {
  const r = analyze('verify', file);
  const about = r.out.split('\n').filter((l) => l.includes(path.basename(file)));
  return r.status === 0 ? about : [`exit ${r.status}`, ...about];
}

/** `Key=value` settings of the [Service] section, in order. */
function settings(text: string): [string, string][] {
  const service = text.split(/^\[Service\]$/m)[1]!.split(/^\[/m)[0]!;
  return service
    .split('\n')
    .filter((l) => /^\w+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}

describe.skipIf(!needs('systemd-analyze'))('contrib/systemd/pollect.service', () => {
  it('passes systemd-analyze verify with nothing to say', () => {
    expect(verify(unitFile())).toEqual([]);
  });

  it('verify would notice a broken unit (the check can fail)', () => {
    const broken = unitFile(
      UNIT.replace('Restart=on-failure', 'Restart=sometimes').replace('NoNewPrivileges=yes', 'NoNewPrivileges=yes\nProtectEverything=yes'),
    );
    const said = verify(broken).join('\n');
    expect(said).toContain('sometimes');
    expect(said).toContain('ProtectEverything');
  });

  it('runs as its own user, hardened, restarted on failure', () => {
    const s = new Map(settings(UNIT));
    expect(s.get('DynamicUser')).toBe('yes');
    expect(s.get('NoNewPrivileges')).toBe('yes');
    expect(s.get('ProtectSystem')).toBe('strict');
    expect(s.get('ProtectHome')).toBe('read-only');
    expect(s.get('PrivateTmp')).toBe('yes');
    expect(s.get('CapabilityBoundingSet')).toBe('');
    expect(s.get('Restart')).toBe('on-failure');
    // systemd's own rating of the sandbox: 1.9 when written; 0 is a unit that can do nothing, 10 none at all.
    const r = analyze('security', '--offline=true', unitFile());
    const level = Number(/Overall exposure level for .*?: ([\d.]+)/.exec(r.out)?.[1]);
    expect(level).toBeLessThanOrEqual(2);
  });

  it('reloads by checking the config first, then sending SIGHUP', () => {
    const reload = settings(UNIT)
      .filter(([k]) => k === 'ExecReload')
      .map(([, v]) => v);
    const start = settings(UNIT).find(([k]) => k === 'ExecStart')![1];
    expect(reload).toEqual([`${start} --check`, '/bin/kill -HUP $MAINPID']);
  });
});
