// Carbon's plaintext protocol: one `path value timestamp\n` line per datapoint, UTF-8.
import type { EncodeResult } from './pickle.js';

/** Twisted's LineOnlyReceiver drops the whole connection for a longer line: never send one. */
export const MAX_LINE_BYTES = 16_384;

/** Values as Python's float() reads them back exactly (shortest round-trip form). */
export function formatPlainValue(v: number): string {
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Number.isNaN(v)) return 'nan';
  return String(v);
}

/**
 * Encodes datapoints `start..end` (exclusive) as lines, at most `maxPoints` of them.
 * `oversize` is 1 when the datapoint at `start` alone makes a line over MAX_LINE_BYTES.
 */
export function encodePlaintext(
  paths: ArrayLike<string>,
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
  start: number,
  end: number,
  maxPoints = 500,
): EncodeResult {
  const stop = Math.min(end, start + maxPoints);
  let text = '';
  let i = start;
  let oversize = 0;
  for (; i < stop; i++) {
    const line = `${paths[i]} ${formatPlainValue(values[i]!)} ${timestamps[i]}\n`;
    if (line.length > MAX_LINE_BYTES / 3 && Buffer.byteLength(line) > MAX_LINE_BYTES) {
      if (i === start) oversize = 1;
      break;
    }
    text += line;
  }
  const count = i - start;
  return { bytes: count ? Buffer.from(text, 'utf8') : Buffer.alloc(0), count, oversize };
}
