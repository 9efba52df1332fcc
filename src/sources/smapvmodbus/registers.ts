// The SMA inverter registers the Python pollect reads (pollect/libs/sma/SmaModbus.py), with their
// data type and scale from SMA's Modbus register list: a value is 2 (32 bit) or 4 (64 bit)
// big-endian 16-bit holding registers; SMA's "not available" value (NaN) is reported 0, as the
// Python pollect does. Signed types are read signed (the Python pollect read every one unsigned,
// so a temperature below 0 came out huge).
import type { Sample } from '../../sdk/index.js';

export type RegisterType = 'U32' | 'S32' | 'U64';

export interface Register {
  address: number;
  type: RegisterType;
  /** The value is the register's integer × this (SMA's FIX0/1/2/3). */
  scale: number;
  name: string;
  unit: string;
  labels?: Record<string, string>;
}

/** What SMA sends for "no value" in each type. */
const NAN: Record<RegisterType, bigint> = { U32: 0xffff_ffffn, S32: 0x8000_0000n, U64: 0xffff_ffff_ffff_ffffn };

/** Where the inverter's Modbus unit id is (with unit id 1): physical serial (U32), SUSy id (U16), unit id (U16). */
export const UNIT_ID_REGISTER = { address: 42109, count: 4 } as const;

export const REGISTERS: readonly Register[] = [
  { address: 30953, type: 'S32', scale: 0.1, name: 'temp', unit: 'celsius' },
  { address: 30803, type: 'U32', scale: 0.01, name: 'frequency', unit: 'hertz' },
  { address: 30775, type: 'S32', scale: 1, name: 'power', unit: 'watts' },
  { address: 30513, type: 'U64', scale: 1, name: 'energy', unit: 'Wh' },
  { address: 30771, type: 'S32', scale: 0.01, name: 'dc_voltage', unit: 'volts' },
  { address: 30769, type: 'S32', scale: 0.001, name: 'dc_current', unit: 'amperes' },
  { address: 30783, type: 'U32', scale: 0.01, name: 'ac_voltage', unit: 'volts', labels: { phase: '1' } },
  { address: 30785, type: 'U32', scale: 0.01, name: 'ac_voltage', unit: 'volts', labels: { phase: '2' } },
  { address: 30787, type: 'U32', scale: 0.01, name: 'ac_voltage', unit: 'volts', labels: { phase: '3' } },
];

/** How many 16-bit registers a type spans. */
export function registerCount(type: RegisterType): number {
  return type === 'U64' ? 4 : 2;
}

/** The value of `reg` from its raw 16-bit words, scaled; NaN is 0. */
export function decodeRegister(reg: Register, words: readonly number[]): number {
  const count = registerCount(reg.type);
  if (words.length !== count || words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffff)) {
    throw new Error(`register ${reg.address}: expected ${count} 16-bit words, got ${words.length}`);
  }
  let raw = 0n;
  for (const w of words) raw = (raw << 16n) | BigInt(w);
  if (raw === NAN[reg.type]) return 0;
  const value = reg.type === 'S32' ? BigInt.asIntN(32, raw) : raw;
  // Rounded to the scale's decimals: 5001 × 0.01 is 50.01, not 50.010000000000005.
  const decimals = Math.max(0, -Math.floor(Math.log10(reg.scale)));
  return Number((Number(value) * reg.scale).toFixed(decimals));
}

export function registerSample(reg: Register, value: number): Sample {
  return { name: reg.name, value, unit: reg.unit, ...(reg.labels ? { labels: reg.labels } : {}) };
}
