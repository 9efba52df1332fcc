// SmaEnergyMeter (the Python pollect's SmaEnergyMeterSource): an SMA Energy Meter or Sunny Home
// Manager 2.0 multicasts a Speedwire datagram every second; this source listens, keeps what came
// since the last probe, and reports the mean of each current value and the latest counters.
import type { Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import {
  ParamError,
  Source,
  SourceError,
  type InitContext,
  type JsonSchema,
  type PluginContext,
  type ProbeContext,
  type Sample,
  type SourceParams,
} from '../../sdk/index.js';
import { portParam } from '../../sdk/params.js';
import { OBIS_MEANINGS, WS_PER_KWH, parseMeterDatagram, type ObisMeaning } from './parse.js';
import { Wakeup } from '../../sdk/wakeup.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    hostIp: {
      type: 'string',
      minLength: 1,
      description: "This host's IPv4 address on the meter's network: the interface that joins the multicast group (default: the one the system picks)",
    },
    multicast: {
      type: 'boolean',
      default: true,
      description: 'Join the multicast group; false: only receive datagrams the meter unicasts to this host',
    },
    group: { type: 'string', default: '239.12.255.254', description: 'The Speedwire multicast group' },
    port: { ...portParam, default: 9522, description: 'The Speedwire UDP port' },
    serial: { type: 'integer', minimum: 0, description: "Only this meter's datagrams (default: every meter's; set it when there are several)" },
  },
} as const satisfies JsonSchema;

export type SmaEnergyMeterConfig = SourceParams<typeof schema>;

interface Reading {
  meaning: ObisMeaning;
  /** Sum and count of the raw values since the last probe (current values), or the latest (counters). */
  sum: number;
  count: number;
}

export class SmaEnergyMeterSource extends Source<SmaEnergyMeterConfig> {
  static override description = 'SMA Energy Meter / Sunny Home Manager power, energy, voltage and current from its Speedwire multicast';
  static override schema = schema;
  /** The network may come up after pollect: joining the group is retried. */
  static override initRetried = true;

  private socket: Socket | undefined;
  private readings = new Map<string, Reading>();
  private problem: string | undefined;
  private readonly arrivals = new Wakeup();

  constructor(config: SmaEnergyMeterConfig, context?: PluginContext) {
    super(config, context);
    if (config.hostIp !== undefined && !isIPv4(config.hostIp)) throw new ParamError('hostIp', `${JSON.stringify(config.hostIp)} is not an IPv4 address`);
    if (!isIPv4(config.group) || Number(config.group.split('.')[0]) < 224 || Number(config.group.split('.')[0]) > 239) {
      throw new ParamError('group', `${JSON.stringify(config.group)} is not an IPv4 multicast address`);
    }
  }

  override async init(_ctx: InitContext): Promise<void> {
    if (this.socket) return;
    const dgram = await import('node:dgram');
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        // Bound to every address: a socket bound to a unicast address does not get multicast datagrams.
        socket.bind(this.config.port, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      if (this.config.multicast) socket.addMembership(this.config.group, this.config.hostIp);
    } catch (err) {
      socket.close();
      throw new Error(`cannot listen on UDP port ${this.config.port}${this.config.multicast ? ` for ${this.config.group}` : ''}: ${(err as Error).message}`);
    }
    socket.on('message', (msg) => this.onDatagram(msg));
    socket.on('error', (err) => this.setProblem(`UDP socket: ${err.message}`));
    this.socket = socket;
  }

  /** The UDP port the source listens on (for tests that let the system pick it). */
  boundPort(): number | undefined {
    return this.socket?.address().port;
  }

  private onDatagram(msg: Buffer): void {
    let datagram;
    try {
      datagram = parseMeterDatagram(msg);
    } catch (err) {
      return this.setProblem(`bad energy meter datagram: ${(err as Error).message}`);
    }
    if (!datagram) return; // another device's Speedwire traffic
    if (this.config.serial !== undefined && datagram.serial !== this.config.serial) return;
    for (const r of datagram.records) {
      const meaning = OBIS_MEANINGS.get(r.obis);
      if (!meaning) continue; // a record the Python pollect does not name (the firmware version, per-tariff counters)
      const known = this.readings.get(r.obis);
      if (meaning.kind === 'sum' || !known) this.readings.set(r.obis, { meaning, sum: r.value, count: 1 });
      else {
        known.sum += r.value;
        known.count++;
      }
    }
    this.problem = undefined;
    this.arrivals.wake();
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    if (!this.socket) throw new SourceError('the SmaEnergyMeter source is not listening');
    // The meter sends every second: a probe without news waits for the next datagram, within its budget.
    if (this.readings.size === 0) await this.arrivals.wait(ctx, `no datagram from the energy meter within ${ctx.timeoutMs} ms`);
    if (this.readings.size === 0 && this.problem !== undefined) throw new SourceError(this.problem);
    const out: Sample[] = [];
    for (const { meaning, sum, count } of this.readings.values()) out.push(...meterSamples(meaning, sum / count));
    this.readings.clear();
    return out;
  }

  private setProblem(message: string): void {
    this.problem = message;
    this.arrivals.wake();
  }

  override async shutdown(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((r) => socket.close(() => r()));
  }
}

/**
 * The samples of one OBIS value (`raw`: its raw reading, or the mean of them), named as the Python
 * pollect's: lower case, `_sum` after a counter, labelled by phase (0: all phases).
 */
export function meterSamples(m: ObisMeaning, raw: number): Sample[] {
  const name = m.name.toLowerCase();
  const labels = { phase: String(m.phase) };
  if (m.kind === 'avg') return [{ name, value: raw * m.factor, labels, unit: m.unit }];
  return [
    // The Python pollect's counter, in kWh.
    { name: `${name}_sum`, value: raw / WS_PER_KWH, labels, naming: 'pollect' },
    // The meter's own reading, in Ws (joules for active power), as a Prometheus counter.
    { name, value: raw * m.factor, labels, type: 'counter', unit: m.unit, naming: 'prometheus' },
  ];
}
