// SMA Speedwire energy meter datagrams (SMA Energy Meter, Sunny Home Manager 2.0): a header
// "SMA\0", a group tag, then an SMA Net 2 block (tag 0x0010) with protocol 0x6069, the device's
// SUSy id, serial and a millisecond tick, followed by OBIS records: channel, index, type, tariff
// (1 byte each) and a value of `type` bytes (4: a current average, 8: a counter).

export interface ObisRecord {
  /** `<channel>:<index>.<type>.<tariff>`, as the Python pollect names them: `0:1.4.0`. */
  obis: string;
  index: number;
  type: number;
  value: number;
}

export interface MeterDatagram {
  susyId: number;
  serial: number;
  /** The meter's millisecond tick (wraps). */
  tick: number;
  records: ObisRecord[];
}

const MAGIC = Buffer.from('SMA\0', 'latin1');
const NET2_TAG = 0x0010;
const ENERGY_METER_PROTOCOL = 0x6069;

/**
 * The records of an energy meter datagram; null for another Speedwire datagram (a discovery, an
 * inverter's); throws when it claims to be one but is cut short or malformed.
 */
export function parseMeterDatagram(data: Buffer): MeterDatagram | null {
  if (data.length < 8 || !data.subarray(0, 4).equals(MAGIC)) return null;
  // The first tag (length 4, tag 0x02a0: the group) and its 4 bytes.
  const groupLen = data.readUInt16BE(4);
  let pos = 8 + groupLen;
  if (data.length < pos + 4) return null;
  const length = data.readUInt16BE(pos);
  const tag = data.readUInt16BE(pos + 2);
  pos += 4;
  if (tag !== NET2_TAG || length < 12 || data.length < pos + 2 || data.readUInt16BE(pos) !== ENERGY_METER_PROTOCOL) return null;
  const end = pos + length;
  if (data.length < end) throw new Error(`datagram cut short: ${data.length} bytes, the header says ${end}`);
  const out: MeterDatagram = { susyId: data.readUInt16BE(pos + 2), serial: data.readUInt32BE(pos + 4), tick: data.readUInt32BE(pos + 8), records: [] };
  pos += 12;
  // Records until the block's end; the last 4 bytes may be the end-of-data marker.
  while (end - pos > 4) {
    const [channel, index, type, tariff] = [data[pos]!, data[pos + 1]!, data[pos + 2]!, data[pos + 3]!];
    pos += 4;
    const size = type === 8 ? 8 : 4;
    if (pos + size > end) throw new Error(`OBIS record ${channel}:${index}.${type}.${tariff} runs past the end of the datagram`);
    const value = size === 8 ? Number(data.readBigUInt64BE(pos)) : data.readUInt32BE(pos);
    pos += size;
    out.records.push({ obis: `${channel}:${index}.${type}.${tariff}`, index, type, value });
  }
  return out;
}

/** What an OBIS record measures, as the Python pollect's ObisNameMap names it. */
export interface ObisMeaning {
  /** German names, as SMA's documentation and the Python pollect give them: `Wirkleistung_positive`. */
  name: string;
  /** avg: a current value (averaged between probes); sum: a counter. */
  kind: 'avg' | 'sum';
  /** 0: the sum of all phases (L1+L2+L3), 1–3: one phase. */
  phase: number;
  /** The raw value times this is the value in `unit` (counters: in Ws, so joules for active power). */
  factor: number;
  unit: string;
}

const POWER: Record<number, [string, string]> = {
  1: ['Wirkleistung_positive', 'watts'],
  2: ['Wirkleistung_negative', 'watts'],
  3: ['Blindleistung_positive', 'var'],
  4: ['Blindleistung_negative', 'var'],
  9: ['Scheinleistung_positive', 'VA'],
  10: ['Scheinleistung_negative', 'VA'],
};
/** A counter's unit: the power's unit times seconds (the meter counts Ws). */
const ENERGY: Record<string, string> = { watts: 'joules', var: 'var_seconds', VA: 'volt_ampere_seconds' };
/** Energy counters are in Ws: the Python pollect reports them in kWh. */
export const WS_PER_KWH = 3_600_000;

function buildMap(): Map<string, ObisMeaning> {
  const map = new Map<string, ObisMeaning>();
  map.set('0:13.4.0', { name: 'Leistungsfaktor', kind: 'avg', phase: 0, factor: 0.001, unit: 'ratio' });
  map.set('0:14.4.0', { name: 'Netzfrequenz', kind: 'avg', phase: 0, factor: 0.001, unit: 'hertz' });
  for (const phase of [0, 1, 2, 3]) {
    const off = phase * 20;
    if (phase > 0) {
      map.set(`0:${11 + off}.4.0`, { name: 'Strom', kind: 'avg', phase, factor: 0.001, unit: 'amperes' });
      map.set(`0:${12 + off}.4.0`, { name: 'Spannung', kind: 'avg', phase, factor: 0.001, unit: 'volts' });
      map.set(`0:${13 + off}.4.0`, { name: 'Leistungsfaktor', kind: 'avg', phase, factor: 0.001, unit: 'ratio' });
    }
    for (const [key, [name, unit]] of Object.entries(POWER)) {
      map.set(`0:${Number(key) + off}.4.0`, { name, kind: 'avg', phase, factor: 0.1, unit });
      map.set(`0:${Number(key) + off}.8.0`, { name, kind: 'sum', phase, factor: 1, unit: ENERGY[unit]! });
    }
  }
  return map;
}

/** The 59 OBIS values the Python pollect knows, by id. */
export const OBIS_MEANINGS: ReadonlyMap<string, ObisMeaning> = buildMap();
