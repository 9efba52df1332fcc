import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Prints which server binaries are missing or skipped (POLLECT_TEST_SKIP), once.
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Real servers (redis, carbon, prometheus, snmpd, named) start per file; keep the 2-core machine calm.
    maxWorkers: 2,
  },
});
