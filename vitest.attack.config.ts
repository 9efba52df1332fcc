import { defineConfig } from 'vitest/config';
import { ATTACK_TESTS, MACHINE_TESTS } from './vitest.config.js';

// `npm test` runs these after the rest of the suite (see ATTACK_TESTS). Each attack counts the
// ticks of its own daemon and that daemon's own RSS and descriptors. Two run side by side, then the
// third: with all three at once, the pipelining flood's daemon got so little CPU on this 2-core
// machine that its loop stalled 1-3 s at the flood's first wave in about half the runs (ticks
// missed in a third; December 2026); two at a time, a 1 s gap in 2 runs of 14 and no tick missed. Then
// the node_exporter comparison alone: the attacks' daemons move the machine's memory by hundreds of
// MB, which it reads.
const FIRST = ['test/writers/prometheus-hostile.test.ts', 'test/writers/prometheus-trickle.test.ts'];
const THEN = ATTACK_TESTS.filter((f) => !FIRST.includes(f));
const common = { globalSetup: ['test/helpers/global-setup.ts'], testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    experimental: { fsModuleCache: true }, // as in vitest.config.ts
    projects: [
      { test: { ...common, name: 'attacks', include: FIRST, maxWorkers: FIRST.length, sequence: { groupOrder: 0 } } },
      { test: { ...common, name: 'attacks-then', include: THEN, maxWorkers: THEN.length, sequence: { groupOrder: 1 } } },
      { test: { ...common, name: 'machine', include: MACHINE_TESTS, maxWorkers: 1, sequence: { groupOrder: 2 } } },
    ],
  },
});
