// Parses one line of `tegrastats` output. The layout differs by board and L4T release:
//   TX1 (L4T 28.1):  RAM a/bMB (lfb ..) SWAP a/bMB (cached cMB) cpu [x%,y%,..]@MHz EMC x%@f APE n GR3D x%@f
//   TX1/TX2/Nano/Xavier (L4T 28.2-32): CPU [x%@f,off,..] EMC_FREQ .. GR3D_FREQ x%@f  NAME@t.tC ..  RAIL cur/avg
//   Xavier NX, Orin (JetPack 5/6): date prefix, rails as `cur mW/avg mW`, GR3D_FREQ x%@[f,f], lowercase zones
//   Orin/Thor (JetPack 7): `zone@t1C/t2C` and `RAIL a mW/b mW/c mW`; Thor prints `GR3D_FREQ @[f,f,f]` (no load)
// Fields a non-root run lacks (EMC, GR3D, rails) are simply absent from the reading.
import { SourceError } from '../../sdk/index.js';

export interface CpuCore {
  core: number;
  online: boolean;
  /** Percent. */
  load?: number;
  /** MHz. */
  freq?: number;
}

export interface TegraReading {
  /** Bytes. */
  ram: { used: number; total: number };
  swap?: { used: number; total: number; cached?: number };
  cpus: CpuCore[];
  /** GR3D: load percent (absent when the line shows only a frequency) and frequencies in MHz, one per GPC. */
  gpu?: { load?: number; freqs: number[] };
  /** Zone names lowercased; PMIC and disabled sensors (-256C) left out. */
  temps: { zone: string; celsius: number }[];
  /** Milliwatts. */
  rails: { rail: string; current: number; average: number }[];
}

const UNIT: Record<string, number> = { kB: 1024, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

const RAM_RE = /(?:^|\s)RAM (\d+)\/(\d+)(kB|KB|MB|GB)\b/;
const SWAP_RE = /(?:^|\s)SWAP (\d+)\/(\d+)(kB|KB|MB|GB)(?: \(cached (\d+)(kB|KB|MB|GB)\))?/;
const CPU_RE = /(?:^|\s)CPU \[([^\]]*)\]/;
const LEGACY_CPU_RE = /(?:^|\s)cpu \[([^\]]*)\](?:@(\d+))?/;
const GPU_RE = /(?:^|\s)GR3D(?:_FREQ)? (?:(\d+)%)?(?:@(\[[\d,]*\]|\d+))?(?=\s|$)/;
// A zone: NAME@12.5C, or NAME@12.5C/12.5C on JetPack 7 (the first value is the current one).
const TEMP_RE = /(?:^|\s)([A-Za-z][\w-]*)@(-?\d+(?:\.\d+)?)C(?:\/-?\d+(?:\.\d+)?C)*(?=\s|$)/g;
// A rail: NAME cur/avg, with or without mW, and a third value on JetPack 7.
const RAIL_RE = /(?:^|\s)([A-Za-z][\w-]*) (\d+)(?:mW)?\/(\d+)(?:mW)?(?:\/\d+(?:mW)?)?(?=\s|$)/g;

/** Temperatures at or below this mean "no sensor" (tegrastats prints -256C for a disabled zone). */
const NO_SENSOR_C = -200;

export function parseTegrastatsLine(line: string): TegraReading {
  const ram = RAM_RE.exec(line);
  if (!ram) throw new SourceError(`not a tegrastats line (no "RAM used/total"): "${excerpt(line)}"`);
  const reading: TegraReading = {
    ram: { used: bytes(ram[1]!, ram[3]!), total: bytes(ram[2]!, ram[3]!) },
    cpus: parseCpus(line),
    temps: [],
    rails: [],
  };
  const swap = SWAP_RE.exec(line);
  if (swap) {
    reading.swap = { used: bytes(swap[1]!, swap[3]!), total: bytes(swap[2]!, swap[3]!) };
    if (swap[4] !== undefined) reading.swap.cached = bytes(swap[4], swap[5]!);
  }
  const gpu = GPU_RE.exec(line);
  if (gpu && (gpu[1] !== undefined || gpu[2] !== undefined)) {
    const freqs =
      gpu[2] === undefined
        ? []
        : gpu[2]
            .replace(/[[\]]/g, '')
            .split(',')
            .filter((f) => f !== '')
            .map(Number);
    reading.gpu = { freqs };
    if (gpu[1] !== undefined) reading.gpu.load = Number(gpu[1]);
  }
  for (const m of line.matchAll(TEMP_RE)) {
    const zone = m[1]!.toLowerCase();
    const celsius = Number(m[2]);
    // PMIC reports a fixed threshold (50C or 100C), not a measurement.
    if (zone === 'pmic' || celsius <= NO_SENSOR_C) continue;
    reading.temps.push({ zone, celsius });
  }
  for (const m of line.matchAll(RAIL_RE)) {
    // `NC` marks an unconnected INA3221 channel on Orin carrier boards.
    if (m[1] === 'NC') continue;
    reading.rails.push({ rail: m[1]!, current: Number(m[2]), average: Number(m[3]) });
  }
  return reading;
}

function parseCpus(line: string): CpuCore[] {
  const modern = CPU_RE.exec(line);
  if (modern) {
    return modern[1]!.split(',').map((entry, core) => {
      const e = entry.trim();
      if (e === 'off') return { core, online: false };
      const m = /^(\d+)%(?:@(\d+))?$/.exec(e);
      if (!m) throw new SourceError(`unrecognised CPU entry "${excerpt(e)}" in tegrastats line`);
      const c: CpuCore = { core, online: true, load: Number(m[1]) };
      if (m[2] !== undefined) c.freq = Number(m[2]);
      return c;
    });
  }
  // L4T 28.1: one frequency for the whole cluster, after the list.
  const legacy = LEGACY_CPU_RE.exec(line);
  if (!legacy) return [];
  const freq = legacy[2] === undefined ? undefined : Number(legacy[2]);
  return legacy[1]!.split(',').map((entry, core) => {
    const e = entry.trim();
    if (e === 'off') return { core, online: false };
    const m = /^(\d+)%$/.exec(e);
    if (!m) throw new SourceError(`unrecognised CPU entry "${excerpt(e)}" in tegrastats line`);
    const c: CpuCore = { core, online: true, load: Number(m[1]) };
    if (freq !== undefined) c.freq = freq;
    return c;
  });
}

function bytes(n: string, unit: string): number {
  return Number(n) * UNIT[unit]!;
}

function excerpt(s: string, max = 80): string {
  const clean = s.replace(/[^\x20-\x7e]+/g, '?');
  return clean.length > max ? clean.slice(0, max) + '…' : clean;
}
