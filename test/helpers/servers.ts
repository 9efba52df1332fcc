// One skip policy for tests that start a real server or run its client tool: a missing binary fails
// the test file, naming the Debian package to install, unless POLLECT_TEST_SKIP names it
// (POLLECT_TEST_SKIP=redis-server,snmpd); a skipped binary is printed. scripts/setup-test-env.sh
// installs every package listed here (test/servers.test.ts checks that it does).
import { execFileSync } from 'node:child_process';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    python3: string;
  }
}

/** Every binary the suite runs that a fresh Debian or Ubuntu machine may lack, with its package. */
export const BINARIES: Readonly<Record<string, string>> = {
  'redis-server': 'redis-server',
  'carbon-cache': 'graphite-carbon',
  'whisper-fetch': 'python3-whisper',
  prometheus: 'prometheus',
  promtool: 'prometheus',
  'prometheus-node-exporter': 'prometheus-node-exporter',
  influxd: 'influxdb',
  'victoria-metrics': 'victoria-metrics',
  mosquitto: 'mosquitto',
  mosquitto_passwd: 'mosquitto',
  mosquitto_sub: 'mosquitto-clients',
  snmpd: 'snmpd',
  snmpget: 'snmp',
  named: 'bind9',
  dig: 'dnsutils',
  openssl: 'openssl',
  python3: 'python3',
  collectd: 'collectd-core',
  'prometheus-alertmanager': 'prometheus-alertmanager',
  curl: 'curl',
  ps: 'procps',
  sensors: 'lm-sensors',
  chromium: 'chromium',
  'systemd-analyze': 'systemd',
  bpftrace: 'bpftrace',
};

/** The binaries POLLECT_TEST_SKIP names. */
export function skippedBinaries(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.POLLECT_TEST_SKIP ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function onPath(binary: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', binary], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** What to tell someone whose machine lacks `missing`. */
export function installHint(missing: readonly string[]): string {
  const packages = [...new Set(missing.map((b) => BINARIES[b] ?? b))];
  return (
    `missing ${missing.join(', ')} (Debian/Ubuntu package${packages.length > 1 ? 's' : ''} ${packages.join(' ')}): ` +
    `run scripts/setup-test-env.sh, or skip the tests that need them with POLLECT_TEST_SKIP=${missing.join(',')}`
  );
}

/**
 * For `describe.skipIf(!needs('redis-server'))(...)`: true when every binary is on PATH; false
 * (and printed) when POLLECT_TEST_SKIP names one of them; otherwise throws, failing the file.
 */
export function needs(...binaries: string[]): boolean {
  const skip = skippedBinaries();
  const skipped = binaries.filter((b) => skip.includes(b));
  if (skipped.length > 0) {
    process.stderr.write(`pollect tests: skipping tests that need ${skipped.join(', ')} (POLLECT_TEST_SKIP)\n`);
    return false;
  }
  const missing = binaries.filter((b) => !onPath(b));
  if (missing.length > 0) throw new Error(installHint(missing));
  return true;
}

/**
 * The interpreter `python3` on PATH runs, found once for the suite (global-setup.ts): where PATH
 * has a version manager's shim (pyenv's is a shell script forking about 35 processes, 0.35 s of
 * CPU per start against 0.03 s), the tests that start Python dozens of times run it directly.
 * `python3` itself when it cannot be run (the tests that need it then fail, naming it).
 */
export function resolvePython(): string {
  try {
    return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim() || 'python3';
  } catch {
    return 'python3';
  }
}

/** The suite's Python interpreter (see resolvePython). */
export function python3(): string {
  return inject('python3');
}
