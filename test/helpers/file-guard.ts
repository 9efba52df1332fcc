// Test files share worker processes (vitest.config.ts: isolate: false). This runs before each
// file: it resets what a fresh process would start without (registered secrets, the log's level
// and format, which in-process `pollect` runs set), and fails the file that leaves fake timers on,
// an environment variable changed, another working directory or process listeners behind,
// instead of a later file that happens to run in the same process.
import { afterAll, afterEach, beforeAll, vi } from 'vitest';
import { forgetSecrets } from '../../src/core/secrets.js';
import { setLogFormat, setLogLevel } from '../../src/log.js';

forgetSecrets();
setLogLevel('info');
setLogFormat('text');

const EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'uncaughtException', 'unhandledRejection'] as const;
let env: Record<string, string | undefined> = {};
// vitest's env stubs write through the object process.env was at start: a file that assigns
// process.env a copy leaves later files' stubs unrestored.
const envObject = process.env;
let cwd = '';
let listeners: number[] = [];

beforeAll(() => {
  env = { ...process.env };
  cwd = process.cwd();
  listeners = EVENTS.map((e) => process.listenerCount(e));
});

// vitest's unstubEnvs undoes vi.stubEnv() before the next test, so the last test's stubs would
// outlive its file: undone here after every test instead.
afterEach(() => {
  vi.unstubAllEnvs();
});

afterAll(() => {
  const problems: string[] = [];
  if (process.env !== envObject) problems.push('process.env replaced by another object (use vi.stubEnv)');
  if (vi.isFakeTimers()) problems.push('fake timers left on (vi.useRealTimers())');
  for (const key of new Set([...Object.keys(env), ...Object.keys(process.env)])) {
    if (env[key] !== process.env[key]) problems.push(`environment variable ${key} changed`);
  }
  if (process.cwd() !== cwd) problems.push(`working directory changed to ${process.cwd()}`);
  EVENTS.forEach((e, i) => {
    if (process.listenerCount(e) !== listeners[i]) problems.push(`${process.listenerCount(e) - listeners[i]!} ${e} listeners added`);
  });
  if (problems.length > 0) throw new Error(`this file leaves the shared test process changed: ${problems.join('; ')}`);
});
