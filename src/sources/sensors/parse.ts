// Parses `sensors -j` (lm-sensors) output into readings: one per `*_input` subfeature.
import { SourceError } from '../../sdk/index.js';

export type SensorKind = 'temperature' | 'fan' | 'voltage' | 'power' | 'current' | 'energy' | 'humidity';

export interface SensorReading {
  /** Chip name, e.g. `coretemp-isa-0000`. */
  device: string;
  /** Feature label, e.g. `Core 0` or `in3`. */
  name: string;
  kind: SensorKind;
  value: number;
}

/** Subfeature prefix (as in lm-sensors' sysfs names) -> what it measures. */
const KINDS: Record<string, SensorKind> = {
  temp: 'temperature',
  fan: 'fan',
  in: 'voltage',
  power: 'power',
  curr: 'current',
  energy: 'energy',
  humidity: 'humidity',
};

// `power` chips without an instantaneous reading report `powerN_average` instead of `_input`.
const SUBFEATURE = /^(temp|fan|in|power|curr|energy|humidity)\d+_(input|average)$/;

/**
 * lm-sensors prints `ERROR: Can't get value of subfeature ...` when a value cannot be read; it
 * goes to stderr, but wrappers that merge the streams put it inside the JSON, sometimes leaving
 * a dangling comma. Drop those lines and such commas so one unreadable sensor does not lose all.
 */
export function cleanSensorsJson(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s*ERROR:/.test(line))
    .join('\n')
    .replace(/,(\s*[}\]])/g, '$1');
}

export function parseSensorsJson(text: string): SensorReading[] {
  let data: unknown;
  try {
    data = JSON.parse(cleanSensorsJson(text));
  } catch (err) {
    const start = text.trim().slice(0, 40).replace(/\s+/g, ' ');
    throw new SourceError(`sensors -j printed invalid JSON (${(err as Error).message}; starts "${start}")`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new SourceError('sensors -j printed JSON that is not an object of chips');
  }
  const out: SensorReading[] = [];
  for (const [device, chip] of Object.entries(data as Record<string, unknown>)) {
    if (chip === null || typeof chip !== 'object') continue;
    for (const [name, feature] of Object.entries(chip as Record<string, unknown>)) {
      // Skips "Adapter": "ISA adapter" and any other non-feature entry.
      if (feature === null || typeof feature !== 'object' || Array.isArray(feature)) continue;
      const subs = feature as Record<string, unknown>;
      let hasInput = false;
      for (const key of Object.keys(subs)) if (key.endsWith('_input')) hasInput = true;
      for (const [key, value] of Object.entries(subs)) {
        const m = SUBFEATURE.exec(key);
        if (!m || typeof value !== 'number' || !Number.isFinite(value)) continue;
        if (m[2] === 'average' && hasInput) continue;
        out.push({ device, name, kind: KINDS[m[1]!]!, value });
      }
    }
  }
  return out;
}

/** Whether a chip name matches a pattern: the full name, its prefix (`coretemp`) or a `*` glob. */
export function chipMatches(chip: string, pattern: string): boolean {
  if (pattern === chip) return true;
  if (!pattern.includes('*')) return chip.split('-')[0] === pattern;
  const re = new RegExp('^' + pattern.split('*').map(escapeRegExp).join('.*') + '$');
  return re.test(chip);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
