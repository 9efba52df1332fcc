import { defineConfig } from 'vitest/config';

// `npm run test:install`: the packed tarball installed as a user installs it. Kept out of `npm test`:
// `npm install -g` resolves the dependencies afresh, which needs the npm registry (the rest of the
// suite talks to loopback only) and takes about a minute. .ci/run runs it after the suite.
export default defineConfig({
  test: {
    include: ['test/install.check.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
