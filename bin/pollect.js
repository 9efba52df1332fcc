#!/usr/bin/env node
// Thin launcher: the program is dist/cli.js (built by `npm run build`, run on install).
import { setKnownFlags, V8_FLAGS } from './v8-flags.js';

// V8 flags for a small daemon (why, and measured how: bin/v8-flags.js), set before the program loads.
setKnownFlags(V8_FLAGS);

const { main } = await import('../dist/cli.js');

// If the event loop ever empties before main() settles, something was left waiting for nothing:
// that is a failure, not a clean exit.
process.exitCode = 1;

main(process.argv).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`pollect: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
