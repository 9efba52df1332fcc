// Sensors: temperatures, fans, voltages, power, current, energy and humidity from lm-sensors'
// `sensors -j` (or its text output), as the Python pollect serves them: one family, labelled by
// chip (device), feature label in lower snake case (name) and the unit sensors prints (unit).
import { Source, SourceError, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { namesParam } from '../../sdk/params.js';
import { firstLine, runCommand } from '../../sdk/command.js';
import { chipMatches, parseSensorsJson, type SensorKind } from './parse.js';
import { parseSensorsText } from './text.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    include: { ...namesParam, default: [], description: 'Chips to read: full name (coretemp-isa-0000), prefix (coretemp) or * glob (nct*); empty: all' },
    exclude: { ...namesParam, default: [], description: 'Chips to skip, matched the same way' },
    useBaseUnits: {
      type: 'boolean',
      default: true,
      description: 'Volts, watts and joules (360 mV is 0.36 V); false: the unit sensors prints (mV, mW, kJ). Fans stay RPM, temperatures °C',
    },
    format: {
      enum: ['auto', 'json', 'text'],
      default: 'auto',
      description: 'auto: `sensors -j`, and the text output when this sensors has no -j (lm-sensors before 3.5)',
    },
    path: { type: 'string', minLength: 1, default: 'sensors', description: 'The sensors command' },
  },
} as const satisfies JsonSchema;

export type SensorsConfig = SourceParams<typeof schema>;

/** The unit lm-sensors prints for each kind (the `unit` label, as in the Python pollect). */
const PRINTED: Record<SensorKind, string> = {
  temperature: '°C',
  fan: 'RPM',
  voltage: 'V',
  power: 'W',
  current: 'A',
  energy: 'J',
  humidity: '%RH',
};
/** Kinds whose value lm-sensors prints with an SI prefix (its scale_value()). */
const SCALED = new Set<SensorKind>(['voltage', 'power', 'energy']);
const PREFIXES: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9 };
/** The sample's unit for each printed unit (its `unit`, which the prometheus naming reads). */
const SAMPLE_UNIT: Record<string, string> = {
  '°C': 'celsius',
  '°F': 'fahrenheit',
  RPM: 'rpm',
  V: 'volts',
  W: 'watts',
  A: 'amperes',
  J: 'joules',
  '%RH': 'percent',
};

interface Reading {
  device: string;
  name: string;
  value: number;
  unit: string;
}

export class SensorsSource extends Source<SensorsConfig> {
  static override description = 'Temperatures, fans, voltages and power from lm-sensors (`sensors -j`, or its text output)';
  static override schema = schema;

  /** auto turns to text for good once this sensors turns -j down. */
  private format = this.config.format;

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const readings = await this.read(ctx);
    const include = this.config.include.filter((s) => s !== '');
    const exclude = this.config.exclude.filter((s) => s !== '');
    const out: Sample[] = [];
    for (const r of readings) {
      if (include.length > 0 && !include.some((p) => chipMatches(r.device, p))) continue;
      if (exclude.some((p) => chipMatches(r.device, p))) continue;
      const [value, unit] = this.config.useBaseUnits ? toBase(r.value, r.unit) : [r.value, r.unit];
      // One family, as in the Python pollect: chip, feature label (lower snake case) and unit as labels.
      out.push({ value, labels: { device: r.device.toLowerCase(), name: r.name.replace(/ /g, '_').toLowerCase(), unit }, unit: sampleUnit(unit) });
    }
    return out;
  }

  private async read(ctx: ProbeContext): Promise<Reading[]> {
    if (this.format !== 'text') {
      const json = await this.readJson(ctx, this.format === 'auto');
      if (json) return json;
      // lm-sensors before 3.5 has no -j: its text output from now on.
      this.format = 'text';
    }
    return this.readText(ctx);
  }

  /** `sensors -j`; undefined when `fallback` and this sensors does not know -j. */
  private async readJson(ctx: ProbeContext, fallback: boolean): Promise<Reading[] | undefined> {
    const file = this.config.path;
    const res = await runCommand(file, ['-j'], { timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxBytes: 4 * 1024 * 1024 });
    const failed = (): SourceError => new SourceError(`${file} -j failed: ${firstLine(res.stderr) || `exit code ${res.code ?? res.signal}`}`);
    if (res.code !== 0 && res.stdout.trim() === '') {
      if (fallback && /invalid option|unrecognized option|unknown option/i.test(res.stderr)) return undefined;
      throw failed();
    }
    const readings = parseSensorsJson(res.stdout);
    // With no chip at all, sensors prints `{}`, "No sensors found!" on stderr and exits 1.
    if (res.code !== 0 && readings.length === 0) throw failed();
    return readings.map((r) => {
      const printed = PRINTED[r.kind];
      // The JSON holds base units; without useBaseUnits the value is shown as sensors prints it.
      const [value, prefix] = SCALED.has(r.kind) && !this.config.useBaseUnits ? scaleValue(r.value) : [r.value, ''];
      return { device: r.device, name: r.name, value, unit: prefix + printed };
    });
  }

  private async readText(ctx: ProbeContext): Promise<Reading[]> {
    const file = this.config.path;
    const res = await runCommand(file, [], { timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxBytes: 4 * 1024 * 1024 });
    const readings = parseSensorsText(res.stdout);
    if (res.code !== 0 && readings.length === 0) {
      throw new SourceError(`${file} failed: ${firstLine(res.stderr) || `exit code ${res.code ?? res.signal}`}`);
    }
    return readings;
  }
}

const PREFIX_NAMES: Record<string, string> = { n: 'nano', u: 'micro', m: 'milli', k: 'kilo', M: 'mega', G: 'giga' };

/** `mV` -> `millivolts`, `°C` -> `celsius`: the sample's unit, which the prometheus naming converts to base units. */
function sampleUnit(printed: string): string | undefined {
  if (SAMPLE_UNIT[printed]) return SAMPLE_UNIT[printed];
  const base = SAMPLE_UNIT[printed.slice(1)];
  const prefix = PREFIX_NAMES[printed[0]!];
  return base && prefix ? prefix + base : undefined;
}

/** `360 mV` -> `0.36 V`, as the Python pollect's useBaseUnits; °C, RPM and %RH stay. */
export function toBase(value: number, unit: string): [number, string] {
  const factor = PREFIXES[unit[0]!];
  if (unit.length === 2 && factor !== undefined && SAMPLE_UNIT[unit[1]!]) return [value * factor, unit[1]!];
  return [value, unit];
}

/** lm-sensors' scale_value(): the value with the SI prefix that puts it between 1 and 1000. */
export function scaleValue(value: number): [number, string] {
  const abs = Math.abs(value);
  if (abs === 0) return [value, ''];
  const scales: [number, string][] = [
    [1e-6, 'n'],
    [1e-3, 'u'],
    [1, 'm'],
    [1e3, ''],
    [1e6, 'k'],
    [1e9, 'M'],
  ];
  let divisor = 1e-9;
  for (const [bound, prefix] of scales) {
    if (abs <= bound) return [value / divisor, prefix];
    divisor = bound;
  }
  return [value / divisor, 'G'];
}
