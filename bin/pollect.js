#!/usr/bin/env node
// Thin launcher: the program is dist/cli.js (built by `npm run build`, run on install).
import { setFlagsFromString } from 'node:v8';

// V8 is tuned for browser tabs; pollect is a small daemon that wakes once a tick. Both flags are
// read by V8 while the heap grows, so they are set before the program loads. Measured with
// `npm run bench:host` (CPU and peak RSS) and unchanged in bench:prometheus and bench:graphite:
// - Once start-up had grown the heap by 1 MB, the memory reducer ran full GCs 8 s apart, and
//   they dropped compiled code that the next tick compiled again: about 1 ms more CPU per tick
//   over the first half minute, for a heap of a few MB. Large heaps keep V8's usual heuristics.
// - Everything allocated at start-up survives the young-generation GCs, so V8 doubled the young
//   generation, which a tick's garbage then filled page by page for 20 s before the next GC:
//   1.5 MB of peak RSS. A growth factor of 1 keeps it at its start size; a heavy load then
//   collects it more often (bench:prometheus and bench:graphite showed no difference).
setFlagsFromString('--no-memory-reducer-for-small-heaps');
setFlagsFromString('--semi-space-growth-factor=1');

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
