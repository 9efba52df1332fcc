// Where the shared captured payloads are: `../shared/fixtures` beside the repository (as CI lays
// it out), or POLLECT_FIXTURES.
import { existsSync } from 'node:fs';
import path from 'node:path';

function locate(): string {
  const candidates = [process.env.POLLECT_FIXTURES, path.resolve(__dirname, '../../../shared/fixtures'), '/work/shared/fixtures'].filter((c): c is string =>
    Boolean(c),
  );
  const found = candidates.find((c) => existsSync(path.join(c, 'README.md')));
  if (!found) throw new Error(`shared fixtures not found; tried ${candidates.join(', ')} (set POLLECT_FIXTURES)`);
  return found;
}

export const FIXTURES = locate();

/** Absolute path of a fixture folder or file, e.g. fixtureDir('k8s'). */
export function fixtureDir(...parts: string[]): string {
  return path.join(FIXTURES, ...parts);
}
