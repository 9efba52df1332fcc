// The launcher's V8 flags (bin/pollect.js) for a benchmark that runs pollect's code in its own
// process: `node --import ./bench/launcher-flags.mjs bench/X.mjs`, or imported before anything else.
import { setKnownFlags, V8_FLAGS } from '../bin/v8-flags.js';

setKnownFlags(V8_FLAGS);
