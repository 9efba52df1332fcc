// Where the shared captured payloads are for benchmarks: POLLECT_FIXTURES, or ../shared/fixtures
// beside the repository.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const candidates = [process.env.POLLECT_FIXTURES, fileURLToPath(new URL('../../shared/fixtures', import.meta.url)), '/work/shared/fixtures'].filter(Boolean);
const root = candidates.find((c) => existsSync(path.join(c, 'README.md')));

export function fixtureDir(...parts) {
  if (!root) throw new Error(`shared fixtures not found; tried ${candidates.join(', ')} (set POLLECT_FIXTURES)`);
  return path.join(root, ...parts);
}
