// The Viessmann IoT API's answers: the installation list (which device to read) and a device's
// feature list (the values the Python pollect's ViessmannSource reports).
import type { Sample } from '../../sdk/index.js';

export interface DevicePath {
  installationId: string;
  gatewaySerial: string;
  deviceId: string;
}

/**
 * The device to read, as the Python pollect chose it: the first installation's first gateway, and
 * on it the first device that is not the gateway itself (`vitoconnect`), else device `0`.
 */
export function pickDevice(answer: unknown): DevicePath {
  const installation = listOf(answer, 'installation list')[0];
  if (!isObject(installation)) throw new Error('the account has no installation');
  const id = installation.id;
  if (typeof id !== 'number' && typeof id !== 'string') throw new Error('installation without an id');
  const gateway = Array.isArray(installation.gateways) ? installation.gateways[0] : undefined;
  if (!isObject(gateway) || typeof gateway.serial !== 'string')
    throw new Error(`installation ${id} has no gateway (was the list asked with includeGateways=true?)`);
  const devices = Array.isArray(gateway.devices) ? gateway.devices.filter(isObject) : [];
  const device = devices.find((d) => d.deviceType !== 'vitoconnect' && (typeof d.id === 'string' || typeof d.id === 'number'));
  return { installationId: String(id), gatewaySerial: gateway.serial, deviceId: device ? String(device.id) : '0' };
}

/** A value of the feature list: the feature, its property, and how the property becomes a number. */
interface Reading {
  name: string;
  feature: string;
  property: string;
  unit?: string;
  /** A string property (a pump's `status`) as 1/0. */
  toNumber?: (v: string) => number;
}

const TEMP = 'celsius';
const on = (v: string): number => (v === 'off' ? 0 : 1);
const STATS = 'heating.compressors.0.statistics';

// In the Python pollect's order and with its names.
const READINGS: readonly Reading[] = [
  { name: 'return_temperature', feature: 'heating.sensors.temperature.return', property: 'value', unit: TEMP },
  { name: 'outside_temperature', feature: 'heating.sensors.temperature.outside', property: 'value', unit: TEMP },
  { name: 'hot_water_storage_top', feature: 'heating.dhw.sensors.temperature.hotWaterStorage.top', property: 'value', unit: TEMP },
  { name: 'hot_water_storage', feature: 'heating.dhw.sensors.temperature.hotWaterStorage', property: 'value', unit: TEMP },
  { name: 'supply_temp', feature: 'heating.circuits.0.sensors.temperature.supply', property: 'value', unit: TEMP },
  { name: 'secondary_return_temp', feature: 'heating.secondaryCircuit.sensors.temperature.return', property: 'value', unit: TEMP },
  { name: 'secondary_supply_temp', feature: 'heating.secondaryCircuit.sensors.temperature.supply', property: 'value', unit: TEMP },
  { name: 'compressor_active', feature: 'heating.compressors.0', property: 'phase', toNumber: (v) => (v === 'off' || v === 'pause' ? 0 : 1) },
  { name: 'compressor_stats_starts', feature: STATS, property: 'starts' },
  { name: 'compressor_stats_hours', feature: STATS, property: 'hours', unit: 'hours' },
  { name: 'compressor_stats_hours_class_1', feature: STATS, property: 'hoursLoadClassOne', unit: 'hours' },
  { name: 'compressor_stats_hours_class_2', feature: STATS, property: 'hoursLoadClassTwo', unit: 'hours' },
  { name: 'compressor_stats_hours_class_3', feature: STATS, property: 'hoursLoadClassThree', unit: 'hours' },
  { name: 'compressor_stats_hours_class_4', feature: STATS, property: 'hoursLoadClassFour', unit: 'hours' },
  { name: 'compressor_stats_hours_class_5', feature: STATS, property: 'hoursLoadClassFive', unit: 'hours' },
  { name: 'hot_water_charging', feature: 'heating.dhw.charging', property: 'active' },
  { name: 'heating_circulation_pump', feature: 'heating.circuits.0.circulation.pump', property: 'status', toNumber: on },
  { name: 'hot_water_circulation_pump', feature: 'heating.dhw.pumps.circulation', property: 'status', toNumber: on },
  { name: 'hot_water_primary_pump', feature: 'heating.dhw.pumps.primary', property: 'status', toNumber: on },
  { name: 'hot_water_target_temp', feature: 'heating.dhw.temperature.main', property: 'value', unit: TEMP },
  { name: 'program_normal_temp', feature: 'heating.circuits.0.operating.programs.normal', property: 'temperature', unit: TEMP },
];

const PHASES = ['cooling', 'heating', 'pause'] as const;

/**
 * The samples of a device's feature list (`{data: [{feature, properties: {p: {type, value}}}]}`).
 * A feature or property the device lacks is left out (the Python pollect failed the whole probe).
 */
export function parseFeatures(answer: unknown): Sample[] {
  const properties = new Map<string, Record<string, unknown>>();
  for (const f of listOf(answer, 'feature list')) {
    if (isObject(f) && typeof f.feature === 'string' && isObject(f.properties)) properties.set(f.feature, f.properties);
  }
  const valueOf = (feature: string, property: string): unknown => {
    const p = properties.get(feature)?.[property];
    return isObject(p) ? p.value : undefined;
  };

  const out: Sample[] = [];
  for (const r of READINGS) {
    const raw = valueOf(r.feature, r.property);
    let value: number | undefined;
    if (typeof raw === 'number' && Number.isFinite(raw)) value = raw;
    else if (typeof raw === 'boolean') value = raw ? 1 : 0;
    else if (typeof raw === 'string' && r.toNumber) value = r.toNumber(raw);
    if (value === undefined) continue;
    out.push(r.unit ? { name: r.name, value, unit: r.unit } : { name: r.name, value });
  }
  const phase = valueOf('heating.compressors.0', 'phase');
  if (typeof phase === 'string') {
    for (const p of PHASES) out.push({ name: 'compressor_phase', value: phase === p ? 1 : 0, labels: { phase: p } });
  }
  return out;
}

function listOf(answer: unknown, what: string): unknown[] {
  if (!isObject(answer) || !Array.isArray(answer.data)) throw new Error(`not a Viessmann ${what} (no "data" list)`);
  return answer.data;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
