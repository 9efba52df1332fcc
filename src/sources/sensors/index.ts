// Sensors: temperatures, fans, voltages, power, current, energy and humidity from lm-sensors'
// `sensors -j`, labelled by chip (device), feature label (name) and unit.
import { Source, SourceError, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { namesParam } from '../../sdk/params.js';
import { firstLine, runCommand } from '../../sdk/command.js';
import { chipMatches, parseSensorsJson, type SensorKind } from './parse.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    include: { ...namesParam, default: [], description: 'Chips to read: full name (coretemp-isa-0000), prefix (coretemp) or * glob (nct*); empty: all' },
    exclude: { ...namesParam, default: [], description: 'Chips to skip, matched the same way' },
    useBaseUnits: {
      type: 'boolean',
      default: false,
      description: 'Fans in hertz (rpm / 60) and humidity as a 0..1 ratio, instead of rpm and percent; other kinds are already in base units',
    },
    path: { type: 'string', minLength: 1, default: 'sensors', description: 'The sensors command' },
  },
} as const satisfies JsonSchema;

export type SensorsConfig = SourceParams<typeof schema>;

interface UnitRule {
  unit: string;
  factor: number;
}

// `sensors -j` already prints volts, watts, amperes, joules and degrees Celsius.
const UNITS: Record<SensorKind, UnitRule> = {
  temperature: { unit: 'celsius', factor: 1 },
  fan: { unit: 'rpm', factor: 1 },
  voltage: { unit: 'volts', factor: 1 },
  power: { unit: 'watts', factor: 1 },
  current: { unit: 'amperes', factor: 1 },
  energy: { unit: 'joules', factor: 1 },
  humidity: { unit: 'percent', factor: 1 },
};
const BASE_UNITS: Record<SensorKind, UnitRule> = {
  ...UNITS,
  fan: { unit: 'hertz', factor: 1 / 60 },
  humidity: { unit: 'ratio', factor: 1 / 100 },
};

export class SensorsSource extends Source<SensorsConfig> {
  static override description = 'Temperatures, fans, voltages and power from lm-sensors (`sensors -j`)';
  static override schema = schema;

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const file = this.config.path;
    const res = await runCommand(file, ['-j'], { timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxBytes: 4 * 1024 * 1024 });
    const failed = (): SourceError => new SourceError(`${file} -j failed: ${firstLine(res.stderr) || `exit code ${res.code ?? res.signal}`}`);
    if (res.code !== 0 && res.stdout.trim() === '') throw failed();
    const readings = parseSensorsJson(res.stdout);
    // With no chip at all, sensors prints `{}`, "No sensors found!" on stderr and exits 1.
    if (res.code !== 0 && readings.length === 0) throw failed();
    const include = this.config.include.filter((s) => s !== '');
    const exclude = this.config.exclude.filter((s) => s !== '');
    const units = this.config.useBaseUnits ? BASE_UNITS : UNITS;
    const out: Sample[] = [];
    for (const r of readings) {
      if (include.length > 0 && !include.some((p) => chipMatches(r.device, p))) continue;
      if (exclude.some((p) => chipMatches(r.device, p))) continue;
      const rule = units[r.kind];
      out.push({
        name: r.kind,
        value: r.value * rule.factor,
        labels: { device: r.device, name: r.name, unit: rule.unit },
        unit: rule.unit,
      });
    }
    return out;
  }
}
