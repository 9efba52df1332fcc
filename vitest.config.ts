import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Real servers (redis, carbon, prometheus, snmpd, named) start per file; keep the 2-core machine calm.
    maxWorkers: 2,
  },
});
