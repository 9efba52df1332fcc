// The launcher's V8 set-up (bin/pollect.js: its flags and the large-heap watch) for a benchmark
// that runs pollect's code in its own process: `node --import ./bench/launcher-flags.mjs bench/X.mjs`,
// or imported before anything else is loaded.
import { setKnownFlags, V8_FLAGS, watchHeapSize } from '../bin/v8-flags.js';

if (setKnownFlags(V8_FLAGS).includes('--optimize-for-size')) watchHeapSize();
