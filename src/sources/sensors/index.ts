// Sensors: temperatures, fans, voltages, power, current, energy and humidity from lm-sensors'
// `sensors -j`, labelled by chip (device), feature label (name) and unit.
import { Source, SourceError, type ProbeContext, type Sample, type SourceConfig } from '../../sdk/index.js';
import type { JsonSchema } from '../../sdk/index.js';
import { firstLine, runCommand } from '../../sdk/command.js';
import { chipMatches, parseSensorsJson, type SensorKind } from './parse.js';

export interface SensorsConfig extends SourceConfig {
  /** Chip names (or prefixes, or `*` globs) to read; empty or absent: all. */
  include?: string[];
  /** Chip names (or prefixes, or `*` globs) to skip. */
  exclude?: string[];
  /** Report fans in hertz and humidity as a 0..1 ratio instead of rpm and percent. */
  useBaseUnits?: boolean;
  /** The sensors binary. Default `sensors`. */
  path?: string;
}

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
  static override schema: JsonSchema = {
    type: 'object',
    properties: {
      include: { type: 'array', items: { type: 'string' }, description: 'Chips to read (name, prefix or * glob); default all' },
      exclude: { type: 'array', items: { type: 'string' }, description: 'Chips to skip (name, prefix or * glob)' },
      useBaseUnits: { type: 'boolean', default: false, description: 'Fans in hertz and humidity as a ratio' },
      path: { type: 'string', minLength: 1, default: 'sensors', description: 'The sensors command' },
    },
  };

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const file = this.config.path ?? 'sensors';
    const res = await runCommand(file, ['-j'], { timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxBytes: 4 * 1024 * 1024 });
    const failed = (): SourceError =>
      new SourceError(`${file} -j failed: ${firstLine(res.stderr) || `exit code ${res.code ?? res.signal}`}`);
    if (res.code !== 0 && res.stdout.trim() === '') throw failed();
    const readings = parseSensorsJson(res.stdout);
    // With no chip at all, sensors prints `{}`, "No sensors found!" on stderr and exits 1.
    if (res.code !== 0 && readings.length === 0) throw failed();
    const include = (this.config.include ?? []).filter((s) => s !== '');
    const exclude = (this.config.exclude ?? []).filter((s) => s !== '');
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
