import { defineConfig } from 'vitest/config';
import { ATTACK_TESTS } from './vitest.config.js';

// `npm test` runs these after the rest of the suite (see ATTACK_TESTS), one file at a time: the
// attacks' daemons move the machine's memory by hundreds of MB, which the node_exporter comparison reads.
export default defineConfig({
  test: {
    include: ATTACK_TESTS,
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
  },
});
