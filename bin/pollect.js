#!/usr/bin/env node
// Thin launcher: the program is dist/cli.js (built by `npm run build`, run on install).
import { main } from '../dist/cli.js';

main(process.argv).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`pollect: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
