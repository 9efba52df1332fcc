import { defineConfig } from 'vitest/config';
import { ATTACK_TESTS, MACHINE_TESTS } from './vitest.config.js';

// `npm test` runs these after the rest of the suite (see ATTACK_TESTS). The attacks run
// together: each counts the ticks of its own daemon and that daemon's own RSS and descriptors
// (0 missed either way, side by side, measured here). Then the node_exporter comparison alone:
// the attacks' daemons move the machine's memory by hundreds of MB, which it reads.
const common = { globalSetup: ['test/helpers/global-setup.ts'], testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    projects: [
      { test: { ...common, name: 'attacks', include: ATTACK_TESTS, maxWorkers: ATTACK_TESTS.length, sequence: { groupOrder: 0 } } },
      { test: { ...common, name: 'machine', include: MACHINE_TESTS, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
