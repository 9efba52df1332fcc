#!/usr/bin/env node
// Thin launcher: the program is dist/cli.js (built by `npm run build`, run on install).
import { setFlagsFromString } from 'node:v8';

// V8 is tuned for browser tabs; pollect is a small daemon that wakes once a tick. The flags are
// read by V8 while the heap grows and code gets hot, so they are set before the program loads.
// The first two were measured with `npm run bench:host` (CPU and peak RSS) and unchanged in
// bench:prometheus and bench:graphite:
// - Once start-up had grown the heap by 1 MB, the memory reducer ran full GCs 8 s apart, and
//   they dropped compiled code that the next tick compiled again: about 1 ms more CPU per tick
//   over the first half minute, for a heap of a few MB. Large heaps keep V8's usual heuristics.
// - Everything allocated at start-up survives the young-generation GCs, so V8 doubled the young
//   generation, which a tick's garbage then filled page by page for 20 s before the next GC:
//   1.5 MB of peak RSS. A growth factor of 1 keeps it at its start size; a heavy load then
//   collects it more often (bench:prometheus and bench:graphite showed no difference).
// - No optimising compiler (TurboFan); functions stop at the baseline compiler (Sparkplug). Its
//   first compile pages about 4 MB of the Node binary in, and in the first minutes its background
//   compiles cost 1.5-3 ms per tick. Measured with `npm run bench:prometheus-host` (sample config,
//   Prometheus writer, 1 s tick, scraped), in the same run: peak RSS 53.1 MB instead of 59.5,
//   6.7 ms instead of 9.4 ms CPU per tick over the first minute, and the same CPU from minute
//   3 to 4 (4.7 and 4.6 ms). The price is paid by heavy loads: a write of 100,000 points takes
//   about twice as long (bench:prometheus, run with `node --max-opt=1`).
setFlagsFromString('--no-memory-reducer-for-small-heaps');
setFlagsFromString('--semi-space-growth-factor=1');
setFlagsFromString('--max-opt=1');

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
