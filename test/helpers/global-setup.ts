// Runs once before the suite: says up front which binaries are missing (each file that needs one
// then fails, naming it) and which POLLECT_TEST_SKIP skips, and finds the Python interpreter.
import type { TestProject } from 'vitest/node';
import { BINARIES, installHint, onPath, resolvePython, skippedBinaries } from './servers.js';

export default function setup(project: TestProject): void {
  project.provide('python3', resolvePython());
  const skip = skippedBinaries();
  const missing = Object.keys(BINARIES).filter((b) => !skip.includes(b) && !onPath(b));
  if (skip.length > 0) console.warn(`pollect tests: skipping the tests that need ${skip.join(', ')} (POLLECT_TEST_SKIP)`);
  if (missing.length > 0) console.warn(`pollect tests: ${installHint(missing)}`);
}
