// ESPHome's native API frames over TCP (aioesphomeapi/_frame_helper):
//  - plaintext: 0x00, varint length, varint message id, the message's bytes;
//  - Noise: 0x01, 16-bit big-endian length, the frame's bytes. During the handshake those are
//    hello and handshake payloads; after it each is one encrypted message whose plaintext is a
//    16-bit id, a 16-bit length and the message's bytes.
// Readers take bytes as they arrive and return whole frames; anything malformed or over the size
// limit is a FrameError, and the connection is dropped.

/** The firmware's limit on one frame (its lengths are 16-bit). */
export const MAX_FRAME = 65535;
/** A varint longer than this is no length or id of this protocol (aioesphomeapi's limit). */
const MAX_VARINT_BYTES = 4;

export class FrameError extends Error {
  override name = 'FrameError';
}

export interface Message {
  type: number;
  data: Buffer;
}

/** Collects bytes until whole frames are there. */
abstract class Reader<T> {
  protected buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): T[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: T[] = [];
    for (let f = this.next(); f !== undefined; f = this.next()) out.push(f);
    return out;
  }

  /** One whole frame off the front of the buffer, or undefined until more bytes come. */
  protected abstract next(): T | undefined;
}

export class PlaintextReader extends Reader<Message> {
  protected next(): Message | undefined {
    if (this.buf.length === 0) return undefined;
    const preamble = this.buf[0]!;
    if (preamble === 0x01) throw new FrameError('the device requires encryption: set psk to its API encryption key');
    if (preamble !== 0x00) throw new FrameError(`invalid preamble 0x${preamble.toString(16).padStart(2, '0')}`);
    const length = readVarint(this.buf, 1);
    if (!length) return undefined;
    if (length.value > MAX_FRAME) throw new FrameError(`frame length ${length.value} exceeds ${MAX_FRAME} bytes`);
    const type = readVarint(this.buf, length.end);
    if (!type) return undefined;
    const end = type.end + length.value;
    if (this.buf.length < end) return undefined;
    const data = Buffer.from(this.buf.subarray(type.end, end));
    this.buf = this.buf.subarray(end);
    return { type: type.value, data };
  }
}

export class NoiseReader extends Reader<Buffer> {
  protected next(): Buffer | undefined {
    if (this.buf.length < 3) return undefined;
    const preamble = this.buf[0]!;
    if (preamble === 0x00) throw new FrameError('the device uses the plaintext protocol: remove psk, or enable encryption on the device');
    if (preamble !== 0x01) throw new FrameError(`invalid preamble 0x${preamble.toString(16).padStart(2, '0')}`);
    const length = this.buf.readUInt16BE(1);
    if (this.buf.length < 3 + length) return undefined;
    const frame = Buffer.from(this.buf.subarray(3, 3 + length));
    this.buf = this.buf.subarray(3 + length);
    return frame;
  }
}

export function plaintextFrame(type: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x00]), varint(data.length), varint(type), data]);
}

export function noiseFrame(payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME) throw new FrameError(`frame of ${payload.length} bytes exceeds ${MAX_FRAME}`);
  const head = Buffer.from([0x01, 0, 0]);
  head.writeUInt16BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** The plaintext of one encrypted message: id, length, bytes. */
export function noiseMessage(type: number, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(data.length, 2);
  return Buffer.concat([head, data]);
}

/** An encrypted message's plaintext read back; its length field is not trusted (as aioesphomeapi). */
export function readNoiseMessage(plain: Buffer): Message {
  if (plain.length < 4) throw new FrameError(`decrypted message too short: ${plain.length} bytes`);
  return { type: plain.readUInt16BE(0), data: plain.subarray(4) };
}

export function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

function readVarint(buf: Buffer, start: number): { value: number; end: number } | undefined {
  let value = 0;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    const pos = start + i;
    if (pos >= buf.length) return undefined;
    const b = buf[pos]!;
    value |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) === 0) return { value, end: pos + 1 };
  }
  throw new FrameError(`varint exceeds ${MAX_VARINT_BYTES} bytes`);
}
