// Carbon's pickle protocol: a 4-byte big-endian payload length, then a pickle (protocol 2) of
// a list of (path, (timestamp, value)) tuples. Written by hand: only the opcodes carbon needs,
// no GLOBAL (carbon's SafeUnpickler refuses those), no memo (nothing is shared), straight into
// one reusable buffer so a 500-point message costs no allocation besides its own bytes.

const PROTO = 0x80;
const EMPTY_LIST = 0x5d; // ]
const MARK = 0x28; // (
const APPENDS = 0x65; // e
const STOP = 0x2e; // .
const BINUNICODE = 0x58; // X: 4-byte little-endian length + UTF-8
const BININT1 = 0x4b; // K: 1-byte unsigned
const BININT2 = 0x4d; // M: 2-byte little-endian unsigned
const BININT = 0x4a; // J: 4-byte little-endian signed
const LONG1 = 0x8a; // 1-byte length + little-endian two's complement
const BINFLOAT = 0x47; // G: 8-byte big-endian IEEE 754 double
const TUPLE2 = 0x86;

/** carbon-relay's default MAX_DATAPOINTS_PER_MESSAGE; carbon's receivers expect no more. */
export const MAX_POINTS_PER_MESSAGE = 500;
/** Carbon drops the connection for a payload over PICKLE_RECEIVER_MAX_LENGTH (1 MiB): stay under. */
export const MAX_MESSAGE_BYTES = 1_000_000;

/** Bytes one datapoint may take besides its path: X+len, LONG1 timestamp, BINFLOAT, 2 TUPLE2. */
const POINT_OVERHEAD = 5 + 10 + 9 + 2;

export interface EncodeResult {
  /** The whole message: length header and pickle. Empty when `count` is 0. */
  bytes: Buffer;
  /** How many datapoints from `start` it holds. */
  count: number;
  /**
   * 1 when `count` is 0 because the datapoint at `start` can never fit in a message (a path of
   * about a megabyte); the caller skips it. 0 normally.
   */
  oversize: number;
}

/**
 * Encodes datapoints `start..end` (exclusive) of three parallel arrays into one message of at
 * most `maxPoints` datapoints and `maxBytes` payload bytes. Timestamps must be integers (seconds).
 */
export class PickleEncoder {
  private buf: Buffer;
  private view: DataView;
  private readonly maxBytes: number;

  constructor(maxBytes = MAX_MESSAGE_BYTES) {
    this.maxBytes = maxBytes;
    // Room for the header, a full payload and the worst case of the point that overflows it.
    this.buf = Buffer.allocUnsafe(4 + maxBytes + 64);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  encode(
    paths: ArrayLike<string>,
    timestamps: ArrayLike<number>,
    values: ArrayLike<number>,
    start: number,
    end: number,
    maxPoints = MAX_POINTS_PER_MESSAGE,
  ): EncodeResult {
    const buf = this.buf;
    const view = this.view;
    const stop = Math.min(end, start + maxPoints);
    // Payload limit minus what the closing APPENDS and STOP need.
    const limit = 4 + this.maxBytes - 2;
    buf[4] = PROTO;
    buf[5] = 2;
    buf[6] = EMPTY_LIST;
    buf[7] = MARK;
    let pos = 8;
    let i = start;
    let oversize = 0;
    for (; i < stop; i++) {
      const path = paths[i]!;
      const n = path.length;
      if (pos + POINT_OVERHEAD + 3 * n > limit) {
        // Maybe too big: measure exactly before giving up on this message.
        const exact = Buffer.byteLength(path, 'utf8');
        if (pos + POINT_OVERHEAD + exact > limit) {
          // Alone in a message and still too big: it can never be sent.
          if (i === start) oversize = 1;
          break;
        }
      }
      // BINUNICODE: UTF-8 written inline (a native call per string would cost more than this).
      buf[pos] = BINUNICODE;
      const p = pos + 5;
      let k = 0;
      for (; k < n; k++) {
        const c = path.charCodeAt(k);
        if (c >= 0x80) break;
        buf[p + k] = c;
      }
      const len = k === n ? n : utf8Tail(buf, path, k, p + k) - p;
      buf[pos + 1] = len & 0xff;
      buf[pos + 2] = (len >>> 8) & 0xff;
      buf[pos + 3] = (len >>> 16) & 0xff;
      buf[pos + 4] = len >>> 24;
      pos = p + len;
      pos = writeInt(buf, pos, timestamps[i]!);
      buf[pos] = BINFLOAT;
      view.setFloat64(pos + 1, values[i]!, false);
      buf[pos + 9] = TUPLE2;
      buf[pos + 10] = TUPLE2;
      pos += 11;
    }
    const count = i - start;
    if (count === 0) return { bytes: Buffer.alloc(0), count: 0, oversize };
    buf[pos++] = APPENDS;
    buf[pos++] = STOP;
    buf.writeUInt32BE(pos - 4, 0);
    const bytes = Buffer.allocUnsafe(pos);
    buf.copy(bytes, 0, 0, pos);
    return { bytes, count, oversize };
  }
}

/**
 * UTF-8 of `s` from index `k` on, written at `at`; returns the end offset. Lone surrogates become
 * U+FFFD, as Buffer.from(s) does. The caller has checked there is room for 3 bytes per char.
 */
function utf8Tail(buf: Buffer, s: string, k: number, at: number): number {
  const n = s.length;
  let o = at;
  for (; k < n; k++) {
    let c = s.charCodeAt(k);
    if (c < 0x80) {
      buf[o++] = c;
    } else if (c < 0x800) {
      buf[o++] = 0xc0 | (c >> 6);
      buf[o++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = k + 1 < n ? s.charCodeAt(k + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        k++;
        buf[o++] = 0xf0 | (c >> 18);
        buf[o++] = 0x80 | ((c >> 12) & 0x3f);
        buf[o++] = 0x80 | ((c >> 6) & 0x3f);
        buf[o++] = 0x80 | (c & 0x3f);
      } else {
        buf[o++] = 0xef;
        buf[o++] = 0xbf;
        buf[o++] = 0xbd;
      }
    } else {
      buf[o++] = 0xe0 | (c >> 12);
      buf[o++] = 0x80 | ((c >> 6) & 0x3f);
      buf[o++] = 0x80 | (c & 0x3f);
    }
  }
  return o;
}

/** The smallest pickle int opcode for `v`, as CPython's pickler picks it. */
function writeInt(buf: Buffer, pos: number, v: number): number {
  if (v >= 0 && v < 0x100) {
    buf[pos] = BININT1;
    buf[pos + 1] = v;
    return pos + 2;
  }
  if (v >= 0 && v < 0x10000) {
    buf[pos] = BININT2;
    buf[pos + 1] = v & 0xff;
    buf[pos + 2] = v >>> 8;
    return pos + 3;
  }
  if (v >= -0x80000000 && v <= 0x7fffffff) {
    buf[pos] = BININT;
    buf[pos + 1] = v & 0xff;
    buf[pos + 2] = (v >>> 8) & 0xff;
    buf[pos + 3] = (v >>> 16) & 0xff;
    buf[pos + 4] = (v >>> 24) & 0xff;
    return pos + 5;
  }
  return writeLong1(buf, pos, v);
}

/** LONG1: minimal little-endian two's complement, for integers beyond 32 bits (up to 2^53). */
function writeLong1(buf: Buffer, pos: number, v: number): number {
  let big = BigInt(Math.trunc(v));
  const bytes: number[] = [];
  // Emit bytes until the rest is pure sign extension of the last byte's top bit.
  for (;;) {
    const byte = Number(big & 0xffn);
    bytes.push(byte);
    big >>= 8n;
    if ((big === 0n && (byte & 0x80) === 0) || (big === -1n && (byte & 0x80) !== 0)) break;
  }
  buf[pos] = LONG1;
  buf[pos + 1] = bytes.length;
  for (let k = 0; k < bytes.length; k++) buf[pos + 2 + k] = bytes[k]!;
  return pos + 2 + bytes.length;
}
