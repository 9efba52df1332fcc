// Sets V8 flags that a future V8 may drop without a word: V8 prints "Error: unrecognized flag" to
// stderr for a flag it does not know. On the V8 versions the flags were checked on they are set
// as they are; on a newer V8 only those that `node --v8-options` lists (one short child process).
import { execFileSync } from 'node:child_process';
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
// - Young-generation GCs and sweeping on the main thread, not handed to V8's worker threads: a
//   tick's heap is small, and waking a worker per GC cost more than it saved. Two wake-ups per
//   tick instead of five (sample config, Prometheus writer, 1 s tick, scraped, side by side in one
//   run), 2-9% less CPU per tick, and no slower on bench:prometheus's 100,000 series. Not V8's
//   `--single-threaded-gc`: set here, after V8 has started, it aborted V8 in the middle of a GC
//   under that load; these two are read at each GC.
// Not set: V8's memory-saving mode (`--optimize-for-size`). Over 10 minutes it keeps the sample
// config's RSS at 52 MB instead of 59, but costs 5% more CPU per tick then, and 30% more in the
// first half minute (bench:host, alternating runs), where issue 10 allows bench:host 10%
// (bench/README.md; a memory-tight device can run `node --optimize-for-size bin/pollect.js`).
export const V8_FLAGS = [
  '--no-memory-reducer-for-small-heaps',
  '--semi-space-growth-factor=1',
  '--max-opt=1',
  '--no-parallel-scavenge',
  '--no-concurrent-sweeping',
];

/** The newest V8 (major, minor) the launcher's flags were checked on: Node 24's, 13.6. */
export const CHECKED_V8 = [13, 6];

/** `--no-memory-reducer-for-small-heaps` and `--max-opt=1` name the options `memory-reducer-for-small-heaps` and `max-opt`. */
function optionName(flag) {
  return flag.replace(/^--(no-)?/, '').replace(/=.*$/, '');
}

/** The flags this V8 knows. `listOptions` returns the text of `node --v8-options`. */
export function knownFlags(flags, v8Version = process.versions.v8, listOptions = v8Options) {
  const [major, minor] = v8Version.split('.').map(Number);
  if (major < CHECKED_V8[0] || (major === CHECKED_V8[0] && minor <= CHECKED_V8[1])) return flags;
  let listed;
  try {
    listed = listOptions();
  } catch {
    return []; // cannot tell: V8's own defaults are safe
  }
  return flags.filter((f) => new RegExp(`^\\s+--${optionName(f)} \\(`, 'm').test(listed));
}

function v8Options() {
  return execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
}

export function setKnownFlags(flags) {
  for (const f of knownFlags(flags)) setFlagsFromString(f);
}
