import { defineConfig } from 'vitest/config';
import { SLOW_TESTS } from './vitest.config.js';

// `npm run test:slow` (it builds dist/ first: the tests run bin/pollect.js), which .ci/run runs
// after `npm test`: the push writers' outage tests, each a real pollect at a 1 s tick through a
// 30 s backend outage (issue 15). They wait rather than work, so every file and every test in it
// runs at once: the suite takes about one outage and its recovery (the core's backoff reaches
// 30 s), not ten.
export default defineConfig({
  test: {
    include: SLOW_TESTS,
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    maxWorkers: 5,
    maxConcurrency: 10,
  },
});
