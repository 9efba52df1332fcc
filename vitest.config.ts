import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Prints which server binaries are missing or skipped (POLLECT_TEST_SKIP), once.
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Most test time is waiting (servers starting, timeouts, peers that never answer), not CPU: four
    // files at once on a 2-core machine ran the suite in 67 s where two took 81 s, equally loaded.
    maxWorkers: 4,
  },
});
