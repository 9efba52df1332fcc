import { defineConfig } from 'vitest/config';

/**
 * Tests that measure the machine as they go: attacks on a real daemon that count missed ticks, and
 * pollect's host readings against node_exporter's at nearly the same moment. They run after the
 * rest of the suite, on a machine no other test loads (vitest.attack.config.ts), so a miss or a
 * difference is pollect's own.
 */
export const ATTACK_TESTS = [
  'test/writers/prometheus-hostile.test.ts',
  'test/writers/prometheus-slow-headers.test.ts',
  'test/writers/prometheus-trickle.test.ts',
];
/** Of those, the one that reads the machine as a whole (its memory, CPU and network), and so runs alone. */
export const MACHINE_TESTS = ['test/writers/prometheus-node.test.ts'];

/** Outages that take real time (a 30 s backend outage per push writer): `npm run test:slow`, vitest.slow.config.ts. */
export const SLOW_TESTS = ['test/slow/**/*.test.ts'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...ATTACK_TESTS, ...MACHINE_TESTS, ...SLOW_TESTS],
    // Prints which server binaries are missing or skipped (POLLECT_TEST_SKIP), once.
    globalSetup: ['test/helpers/global-setup.ts'],
    // Files share worker processes instead of a fresh process and module graph each: that halved
    // the suite's CPU time (starting a worker and importing src per file was most of it). The
    // guard fails a file that leaves the process changed (timers, environment, directory).
    isolate: false,
    setupFiles: ['test/helpers/file-guard.ts'],
    // vi.stubEnv() lasts one test (undone before the next, and after each by file-guard.ts).
    unstubEnvs: true,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Test time is partly waiting (servers starting, timeouts, peers that never answer), partly CPU
    // (the pass keeps both cores about 85% busy): six files at once took 65-71 s, four 79 s and
    // eight 70 s on this 2-core machine (December 2026).
    maxWorkers: 6,
    // Keeps each transformed module on disk (node_modules/.experimental-vitest-cache, by content):
    // a run after the first transforms 5 s of modules instead of 22-25 s, 3-4 s less wall time here
    // (two pairs of runs side by side, December 2026). `npx vitest --clearCache` empties it.
    experimental: { fsModuleCache: true },
  },
});
