// SmartCtl: SMART attributes of disks through `smartctl --json -a`, devices chosen by regex at
// every probe (disks come and go), one labelled value per attribute as in pollect.
import { readdir } from 'node:fs/promises';
import { ParamError, Source, SourceError, type JsonSchema, type PluginContext, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { compileRegex, namesParam } from '../../sdk/params.js';
import { firstLine, runCommand } from '../../sdk/command.js';
import { parseScan, parseSmartReport, smartctlMessages, type ScannedDevice } from './parse.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    devices: {
      ...namesParam,
      default: [],
      description:
        "Regexes matched from the start (as Python's re.match) against device names without /dev/ (sd[a-z], nvme0); empty: all found. Required with discover dev",
    },
    attributes: {
      ...namesParam,
      default: [],
      description: 'Attribute names to report, e.g. Reallocated_Sector_Ct, temperature_sensors (a list: all its items, _0, _1 ...); empty: all',
    },
    discover: {
      type: 'string',
      enum: ['auto', 'scan', 'dev'],
      default: 'auto',
      description:
        'scan: smartctl --scan --json (disks only, with their -d type); dev: every /dev entry matching devices (as pollect); auto: scan, and /dev for a devices regex that matches no scanned disk (nvme0n1)',
    },
    path: { type: 'string', minLength: 1, default: 'smartctl', description: 'The smartctl command' },
    concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 4, description: 'smartctl processes at once' },
  },
} as const satisfies JsonSchema;

export type SmartCtlConfig = SourceParams<typeof schema>;

// smartctl's exit status is a bitmask (smartctl(8) RETURN VALUES). Bits 0 and 1 mean no data
// (bad command line; device open failed or did not identify); bits 2..7 come with a full report
// (a SMART command failed, disk failing, attributes at or below threshold, errors logged).
const NO_DATA_BITS = 0b11;

interface Device {
  path: string;
  /** The `dev` label. */
  label: string;
  type?: string;
}

export class SmartCtlSource extends Source<SmartCtlConfig> {
  static override description = 'SMART attributes of ATA and NVMe disks through smartctl --json';
  static override schema = schema;

  private readonly patterns: RegExp[] = [];
  private readonly attributes: Set<string>;

  constructor(config: SmartCtlConfig, context?: PluginContext) {
    super(config, context);
    config.devices.forEach((d, i) => {
      if (d === '') return;
      // Anchored at the start, as Python's re.match; compiled first so that a leading (?i) stays leading.
      const re = compileRegex(`devices[${i}]`, d);
      this.patterns.push(new RegExp(`^(?:${re.source})`, re.flags));
    });
    this.attributes = new Set(config.attributes.filter((a) => a !== ''));
    if (config.discover === 'dev' && this.patterns.length === 0) {
      throw new ParamError('devices', 'with discover "dev" at least one device regex is needed');
    }
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const devices = await this.findDevices(ctx);
    // Per device, so the samples come in device order whichever smartctl answers first.
    const perDevice: Sample[][] = devices.map(() => []);
    const errors: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < devices.length) {
        const i = next++;
        try {
          perDevice[i] = await this.readDevice(devices[i]!, ctx);
        } catch (err) {
          if (!(err instanceof SourceError)) throw err;
          errors.push(err.message);
          ctx.log.warn(err.message);
        }
      }
    };
    const n = Math.min(this.config.concurrency, devices.length);
    await Promise.all(Array.from({ length: n }, worker));
    if (errors.length === devices.length) {
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more device(s) failed)` : '';
      throw new SourceError(errors[0] + more);
    }
    return perDevice.flat();
  }

  private matches(label: string): boolean {
    return this.patterns.length === 0 || this.patterns.some((re) => re.test(label));
  }

  private async listDev(): Promise<ScannedDevice[]> {
    const names = await readdir('/dev').catch((err: Error) => {
      throw new SourceError(`cannot list /dev: ${err.message}`);
    });
    return names.sort().map((n) => ({ name: `/dev/${n}` }));
  }

  private async findDevices(ctx: ProbeContext): Promise<Device[]> {
    let found: ScannedDevice[];
    if (this.config.discover === 'dev') {
      found = await this.listDev();
    } else {
      const res = await runCommand(this.config.path, ['--scan', '--json'], { timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxBytes: 1024 * 1024 });
      if (res.code !== 0 && res.stdout.trim() === '') {
        throw new SourceError(`${this.config.path} --scan failed: ${firstLine(res.stderr) || `exit code ${res.code ?? res.signal}`}`);
      }
      found = parseScan(res.stdout);
      // A regex for a namespace or partition (nvme0n1), which --scan lists by its controller
      // (nvme0): matched against /dev, as the Python pollect matches every device.
      const unmatched = this.patterns.filter((re) => !found.some((d) => re.test(shortName(d.name))));
      if (this.config.discover === 'auto' && unmatched.length > 0) {
        const scanned = new Set(found.map((d) => d.name));
        for (const d of await this.listDev()) if (!scanned.has(d.name) && unmatched.some((re) => re.test(shortName(d.name)))) found.push(d);
      }
    }
    const devices: Device[] = [];
    for (const d of found) {
      const short = shortName(d.name);
      // Several RAID disks share one path (`/dev/bus/0 -d megaraid,N`): the type tells them apart.
      const label = d.type?.includes(',') ? `${short}:${d.type}` : short;
      if (this.matches(short)) devices.push({ path: d.name, label, type: d.type });
    }
    if (devices.length === 0) {
      const how = this.config.discover === 'dev' ? 'in /dev' : `by ${this.config.path} --scan`;
      if (found.length === 0) throw new SourceError(`no device found ${how}`);
      throw new SourceError(`no device matches ${JSON.stringify(this.config.devices)} among ${found.length} found ${how}`);
    }
    return devices;
  }

  private async readDevice(dev: Device, ctx: ProbeContext): Promise<Sample[]> {
    const args = ['--json', '-a', ...(dev.type ? ['-d', dev.type] : []), dev.path];
    const res = await runCommand(this.config.path, args, { timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxBytes: 8 * 1024 * 1024 });
    const where = `${this.config.path} ${dev.path}`;
    if (res.code === null) throw new SourceError(`${where}: ended by signal ${res.signal}`);
    if (res.code & NO_DATA_BITS) {
      let why = '';
      try {
        why = smartctlMessages(JSON.parse(res.stdout) as Record<string, unknown>)[0] ?? '';
      } catch {
        // not JSON: stderr or the exit code explains it
      }
      why ||= firstLine(res.stderr) || firstLine(res.stdout);
      const bits = res.code & 1 ? 'command line not accepted' : 'device open failed or no identify data';
      throw new SourceError(`${where}: exit status ${res.code} (${bits})${why ? `: ${why}` : ''}`);
    }
    const report = parseSmartReport(res.stdout, where);
    report.attributes.push({ attribute: 'smartctl_exit_status', value: res.code });
    const out: Sample[] = [];
    for (const a of report.attributes) {
      // A list attribute is named by its list (temperature_sensors) or by one item (temperature_sensors_1).
      if (this.attributes.size > 0 && !this.attributes.has(a.attribute) && !(a.list && this.attributes.has(a.list))) continue;
      out.push({ value: a.value, labels: { attribute: a.attribute, dev: dev.label } });
    }
    return out;
  }
}

function shortName(path: string): string {
  return path.replace(/^\/dev\//, '');
}
