// snappyjs (pure JavaScript snappy, block format as remote_write wants it), imported on first use.
// Its types are declared here (it ships none), so the tests and benchmarks get them too.
export interface Snappy {
  compress(uncompressed: Uint8Array): Uint8Array;
  uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
}

let snappy: Promise<Snappy> | undefined;

export function loadSnappy(): Promise<Snappy> {
  snappy ??= import('snappyjs').then((m) => ({ compress: m.compress, uncompress: m.uncompress }));
  return snappy;
}
