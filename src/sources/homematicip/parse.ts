// The Homematic IP cloud's current state (`POST <urlREST>/hmip/home/getCurrentState`): rooms are
// the groups of type META, each listing its devices' channels; a wall thermostat or a
// temperature/humidity sensor with display reports its readings in a WALL_MOUNTED_THERMOSTAT_PRO_CHANNEL.
import { SourceError } from '../../sdk/index.js';

/**
 * Device types the Python pollect reports: the homematicip library's TemperatureHumiditySensorDisplay
 * and its subclasses (WallMountedThermostatPro, its Basic Humidity and RoomControlDevice kinds).
 */
export const CLIMATE_DEVICE_TYPES: ReadonlySet<string> = new Set([
  'TEMPERATURE_HUMIDITY_SENSOR_DISPLAY',
  'WALL_MOUNTED_THERMOSTAT_PRO',
  'BRAND_WALL_MOUNTED_THERMOSTAT',
  'WALL_MOUNTED_THERMOSTAT_BASIC_HUMIDITY',
  'WIRED_WALL_MOUNTED_THERMOSTAT',
  'ROOM_CONTROL_DEVICE',
]);

export interface RoomReading {
  room: string;
  device: string;
  setPointTemperature?: number;
  actualTemperature?: number;
  humidity?: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** A room's label as the Python pollect writes it: lower case, umlauts spelled out, spaces as `_`. */
export function roomLabel(label: string): string {
  return label.toLowerCase().replaceAll('ä', 'ae').replaceAll('ü', 'ue').replaceAll('ö', 'oe').replaceAll(' ', '_');
}

/** The readings of every climate device in every room, in the order of the answer's groups and channels. */
export function parseCurrentState(state: unknown, where: string): RoomReading[] {
  if (!isObj(state)) throw new SourceError(`${where}: not a Homematic IP state (no JSON object)`);
  const { groups, devices } = state;
  if (!isObj(groups) || !isObj(devices)) throw new SourceError(`${where}: the state has no "groups" and "devices" objects`);
  const out: RoomReading[] = [];
  for (const group of Object.values(groups)) {
    if (!isObj(group) || group.type !== 'META' || !Array.isArray(group.channels)) continue;
    const room = roomLabel(typeof group.label === 'string' ? group.label : '');
    // A device with several channels in the room is one device.
    const ids = new Set<string>();
    for (const ch of group.channels) if (isObj(ch) && typeof ch.deviceId === 'string') ids.add(ch.deviceId);
    for (const id of ids) {
      const device = devices[id];
      if (!isObj(device) || typeof device.type !== 'string' || !CLIMATE_DEVICE_TYPES.has(device.type)) continue;
      const channels = isObj(device.functionalChannels) ? Object.values(device.functionalChannels) : [];
      const c = channels.find((ch): ch is Obj => isObj(ch) && ch.functionalChannelType === 'WALL_MOUNTED_THERMOSTAT_PRO_CHANNEL');
      if (!c) continue;
      out.push({ room, device: id, setPointTemperature: num(c.setPointTemperature), actualTemperature: num(c.actualTemperature), humidity: num(c.humidity) });
    }
  }
  return out;
}
