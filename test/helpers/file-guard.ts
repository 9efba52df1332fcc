// Test files share worker processes (vitest.config.ts: isolate: false), so each file must leave
// the process as it found it: this fails the file that leaves fake timers on, an environment
// variable changed or another working directory, instead of a later file that happens to run
// in the same process.
import { afterAll, beforeAll, vi } from 'vitest';

let env: Record<string, string | undefined> = {};
let cwd = '';

beforeAll(() => {
  env = { ...process.env };
  cwd = process.cwd();
});

afterAll(() => {
  const problems: string[] = [];
  if (vi.isFakeTimers()) problems.push('fake timers left on (vi.useRealTimers())');
  for (const key of new Set([...Object.keys(env), ...Object.keys(process.env)])) {
    if (env[key] !== process.env[key]) problems.push(`environment variable ${key} changed`);
  }
  if (process.cwd() !== cwd) problems.push(`working directory changed to ${process.cwd()}`);
  if (problems.length > 0) throw new Error(`this file leaves the shared test process changed: ${problems.join('; ')}`);
});
