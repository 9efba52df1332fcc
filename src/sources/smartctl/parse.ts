// Parses `smartctl --json` output: the device list of `--scan` and the attributes of `-a`.
import { SourceError } from '../../sdk/index.js';
import { finite, isRecord } from '../../sdk/json.js';

export interface ScannedDevice {
  /** e.g. `/dev/sda` */
  name: string;
  /** smartctl's `-d` type, e.g. `sat`, `nvme`. */
  type?: string;
}

export interface SmartAttribute {
  attribute: string;
  value: number;
  /** For one item of a list attribute (`temperature_sensors_1`): the list's name, which `attributes` may name. */
  list?: string;
}

export interface SmartReport {
  attributes: SmartAttribute[];
  /** smartctl's own error messages (JSON `smartctl.messages`), for failures. */
  messages: string[];
}

function parseJson(text: string, what: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const start = text.trim().slice(0, 40).replace(/\s+/g, ' ');
    throw new SourceError(`${what} printed invalid JSON (${(err as Error).message}; starts "${start}")`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new SourceError(`${what} printed JSON that is not an object`);
  }
  return data as Record<string, unknown>;
}

/** The devices of `smartctl --scan --json`. */
export function parseScan(text: string): ScannedDevice[] {
  const data = parseJson(text, 'smartctl --scan');
  const devices = data['devices'];
  if (devices === undefined) return [];
  if (!Array.isArray(devices)) throw new SourceError('smartctl --scan: "devices" is not a list');
  const out: ScannedDevice[] = [];
  for (const d of devices) {
    if (!isRecord(d) || typeof d['name'] !== 'string') continue;
    out.push({ name: d['name'], type: typeof d['type'] === 'string' ? d['type'] : undefined });
  }
  return out;
}

/** smartctl's messages (errors first) from its JSON, or [] when there are none. */
export function smartctlMessages(data: Record<string, unknown>): string[] {
  const sc = data['smartctl'];
  if (!isRecord(sc) || !Array.isArray(sc['messages'])) return [];
  const msgs = sc['messages'].filter(isRecord);
  msgs.sort((a, b) => Number(b['severity'] === 'error') - Number(a['severity'] === 'error'));
  return msgs.map((m) => m['string']).filter((s): s is string => typeof s === 'string');
}

// smartctl decodes some packed raw values for display (`36 (Min/Max 20/45)`, `1234h+05m+06.789s`);
// the raw number then holds several fields at once, so the decoded leading number is the value.
const DECODED_RAW = /^(\d+)(?: \(|h\+)/;

/** The raw value of an ATA attribute as smartctl decodes it. */
export function ataRawValue(raw: unknown): number | undefined {
  if (!isRecord(raw)) return undefined;
  if (typeof raw['string'] === 'string') {
    const m = DECODED_RAW.exec(raw['string']);
    if (m) return Number(m[1]);
  }
  return typeof raw['value'] === 'number' ? raw['value'] : undefined;
}

/** The attributes of one `smartctl --json -a` report: ATA table, NVMe health log, a few common fields. */
export function parseSmartReport(text: string, what = 'smartctl'): SmartReport {
  const data = parseJson(text, what);
  const attributes: SmartAttribute[] = [];
  const ata = data['ata_smart_attributes'];
  if (isRecord(ata) && Array.isArray(ata['table'])) {
    for (const row of ata['table']) {
      if (!isRecord(row) || typeof row['name'] !== 'string') continue;
      const value = ataRawValue(row['raw']);
      if (value !== undefined) attributes.push({ attribute: row['name'], value });
    }
  }
  const nvme = data['nvme_smart_health_information_log'];
  if (isRecord(nvme)) {
    for (const [key, v] of Object.entries(nvme)) {
      if (Array.isArray(v)) {
        v.forEach((item, idx) => {
          const n = finite(item);
          if (n !== undefined) attributes.push({ attribute: `${key}_${idx}`, value: n, list: key });
        });
      } else {
        const n = finite(v);
        if (n !== undefined) attributes.push({ attribute: key, value: n });
      }
    }
  }
  // Neither table (SCSI/SAS): report what smartctl gives for every protocol.
  if (!isRecord(ata) && !isRecord(nvme)) {
    const temp = isRecord(data['temperature']) ? finite(data['temperature']['current']) : undefined;
    if (temp !== undefined) attributes.push({ attribute: 'temperature', value: temp });
    const hours = isRecord(data['power_on_time']) ? finite(data['power_on_time']['hours']) : undefined;
    if (hours !== undefined) attributes.push({ attribute: 'power_on_hours', value: hours });
    const defects = finite(data['scsi_grown_defect_list']);
    if (defects !== undefined) attributes.push({ attribute: 'scsi_grown_defect_list', value: defects });
  }
  if (isRecord(data['smart_status']) && typeof data['smart_status']['passed'] === 'boolean') {
    attributes.push({ attribute: 'smart_passed', value: data['smart_status']['passed'] ? 1 : 0 });
  }
  return { attributes, messages: smartctlMessages(data) };
}
