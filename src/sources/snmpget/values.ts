// Turns net-snmp varbinds into values: numbers (bigint for Counter64), strings for labels, and
// the counter modulus a rate needs.

/** ASN.1/SMI type tags (RFC 2578), as net-snmp reports them in `varbind.type`. */
export const T = {
  Boolean: 1,
  Integer: 2,
  OctetString: 4,
  Null: 5,
  OID: 6,
  IpAddress: 64,
  Counter32: 65,
  Gauge32: 66,
  TimeTicks: 67,
  Opaque: 68,
  Counter64: 70,
  NoSuchObject: 128,
  NoSuchInstance: 129,
  EndOfMibView: 130,
} as const;

export type SnmpValue =
  | { kind: 'number'; value: number | bigint; type: number }
  | { kind: 'text'; text: string; type: number }
  | { kind: 'missing'; why: string };

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(T).map(([k, v]) => [v, k]));

export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

/**
 * Net-SNMP encodes floats in an Opaque (UCD-SNMP-MIB laLoadFloat): tag 0x9f 0x78, length 4,
 * an IEEE float; 0x9f 0x79, length 8, a double.
 */
export function decodeOpaqueFloat(buf: Buffer): number | undefined {
  if (buf.length === 7 && buf[0] === 0x9f && buf[1] === 0x78 && buf[2] === 4) return buf.readFloatBE(3);
  if (buf.length === 11 && buf[0] === 0x9f && buf[1] === 0x79 && buf[2] === 8) return buf.readDoubleBE(3);
  return undefined;
}

function bufferToBigint(buf: Buffer): bigint {
  let n = 0n;
  for (const b of buf) n = (n << 8n) | BigInt(b);
  return n;
}

export function toSnmpValue(type: number, value: unknown): SnmpValue {
  switch (type) {
    case T.NoSuchObject:
      return { kind: 'missing', why: 'noSuchObject' };
    case T.NoSuchInstance:
      return { kind: 'missing', why: 'noSuchInstance' };
    case T.EndOfMibView:
      return { kind: 'missing', why: 'endOfMibView' };
    case T.Null:
      return { kind: 'missing', why: 'null' };
    case T.Boolean:
      return { kind: 'number', value: value ? 1 : 0, type };
    case T.Integer:
    case T.Counter32:
    case T.Gauge32:
    case T.TimeTicks:
      return typeof value === 'number' ? { kind: 'number', value, type } : { kind: 'missing', why: `bad ${typeName(type)}` };
    case T.Counter64: {
      if (Buffer.isBuffer(value)) return { kind: 'number', value: bufferToBigint(value), type };
      if (typeof value === 'number' || typeof value === 'bigint') return { kind: 'number', value, type };
      return { kind: 'missing', why: 'bad Counter64' };
    }
    case T.Opaque: {
      const f = Buffer.isBuffer(value) ? decodeOpaqueFloat(value) : undefined;
      if (f !== undefined) return { kind: 'number', value: f, type };
      return { kind: 'text', text: Buffer.isBuffer(value) ? value.toString('hex') : String(value), type };
    }
    case T.OctetString: {
      const text = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
      // Printable text is kept as is; binary (a MAC address) as hex, as snmpget's Hex-STRING.
      const printable = !/[\x00-\x08\x0e-\x1f\x7f\ufffd]/.test(text);
      return { kind: 'text', text: printable ? text : (value as Buffer).toString('hex'), type };
    }
    default:
      return { kind: 'text', text: String(value), type };
  }
}

/** The number in a value: numbers as they are, numeric strings (an `extend` output) parsed. */
export function numericValue(v: SnmpValue): number | bigint | undefined {
  if (v.kind === 'number') return v.value;
  if (v.kind === 'text' && /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/.test(v.text)) return Number(v.text);
  return undefined;
}

/** What a label shows for a value. */
export function labelText(v: SnmpValue): string {
  if (v.kind === 'number') return String(v.value);
  if (v.kind === 'text') return v.text;
  return '';
}

/** The modulus at which a counter of this type wraps, for rates. */
export function wrapOf(type: number): number | bigint | undefined {
  if (type === T.Counter32) return 2 ** 32;
  if (type === T.Counter64) return 2n ** 64n;
  return undefined;
}
