// evcc's websocket state message: one JSON object whose keys are evcc's UI values. Loadpoint values
// come as flat keys `loadpoints.<i>.<name>` (as in the Python pollect's test message); a nested
// `loadpoints: [{...}]` list is read the same way.
import type { Sample } from '../../sdk/index.js';

const LOADPOINT_KEY = /^loadpoints\.(\d+)\.(.+)$/;

/**
 * The units of evcc's values, by key, as evcc's UI reads them (powers in W, session energies in Wh,
 * meter totals and capacities in kWh, durations in seconds). A key not listed (prices, in the
 * tariff's currency; counts; flags; keys of a newer evcc) declares no unit and is served as it is.
 */
const UNITS = new Map<string, string>([
  ...unit('W', 'gridPower', 'pvPower', 'homePower', 'residualPower', 'batteryPower', 'chargePower'),
  ...unit('percent', 'batterySoc', 'bufferSoc', 'bufferStartSoc', 'prioritySoc', 'vehicleSoc', 'targetSoc', 'minSoc', 'vehicleTargetSoc', 'limitSoc'),
  ...unit('percent', 'effectiveLimitSoc', 'effectivePlanSoc', 'planSoc', 'sessionSolarPercentage', 'savingsSelfConsumptionPercent'),
  ...unit('ratio', 'greenShare', 'greenShareHome', 'greenShareLoadpoints'),
  ...unit('A', 'maxCurrent', 'minCurrent', 'chargeCurrent', 'effectiveMaxCurrent', 'effectiveMinCurrent'),
  ...unit('Wh', 'chargedEnergy', 'sessionEnergy', 'chargeRemainingEnergy'),
  ...unit('kWh', 'pvEnergy', 'gridEnergy', 'batteryCapacity', 'vehicleCapacity', 'savingsTotalCharged', 'savingsGridCharged', 'savingsSelfConsumptionCharged'),
  ...unit('seconds', 'chargeDuration', 'connectedDuration', 'chargeRemainingDuration', 'pvRemaining', 'phaseRemaining', 'guardRemaining'),
  ...unit('km', 'vehicleRange', 'vehicleOdometer'),
]);

function unit(u: string, ...keys: string[]): [string, string][] {
  return keys.map((k) => [k, u]);
}

/** The numbers and booleans of a state message: loadpoint values labelled by title, the rest bare. */
export function parseEvccState(state: unknown): Sample[] {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) throw new Error('not an evcc state message (not a JSON object)');
  const flat: Record<string, unknown> = { ...(state as Record<string, unknown>) };
  const nested = flat.loadpoints;
  if (Array.isArray(nested)) {
    delete flat.loadpoints;
    nested.forEach((lp, i) => {
      if (lp && typeof lp === 'object') for (const [k, v] of Object.entries(lp)) flat[`loadpoints.${i}.${k}`] = v;
    });
  }

  const titles = new Map<string, string>();
  for (const [key, value] of Object.entries(flat)) {
    const m = LOADPOINT_KEY.exec(key);
    if (m && m[2] === 'title' && typeof value === 'string') titles.set(m[1]!, value);
  }

  const out: Sample[] = [];
  for (const [key, raw] of Object.entries(flat)) {
    const value = metric(raw);
    if (value === undefined) continue;
    const m = LOADPOINT_KEY.exec(key);
    const name = m ? m[2]! : key;
    const sample: Sample = { name, value };
    // A loadpoint without a title is labelled by its index.
    if (m) sample.labels = { title: titles.get(m[1]!) ?? m[1]! };
    const u = UNITS.get(name);
    if (u) sample.unit = u;
    out.push(sample);
  }
  return out;
}

/** A number, or a boolean as 1/0 (as Python's bool is an int); anything else is no metric. */
function metric(v: unknown): number | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  return undefined;
}
