// EspHome (the Python pollect's EspHomeSource): the sensor values of an ESPHome device, from its
// native API (TCP 6053, Noise encryption with the device's API key, or plaintext). The source
// keeps one session open from init on (session.ts), reconnecting with backoff, and each probe
// reports the latest state of every sensor.
import net from 'node:net';
import {
  ParamError,
  Source,
  errorMessage,
  registerSecret,
  type InitContext,
  type JsonSchema,
  type PluginContext,
  type ProbeContext,
  type Sample,
  type SourceParams,
} from '../../sdk/index.js';
import { checkHost, portParam } from '../../sdk/params.js';
import { Reconnect } from '../../sdk/reconnect.js';
import { apiTypes, type SensorInfo } from './api.js';
import { decodePsk } from './noise.js';
import { EspHomeSession, type DeviceInfo } from './session.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['host'],
  properties: {
    host: { type: 'string', minLength: 1, description: 'Host name or IP address of the ESPHome device' },
    port: { ...portParam, default: 6053, description: "The device's native API port" },
    psk: {
      type: 'string',
      minLength: 1,
      description: "The device's API encryption key (`api: encryption: key:`, base64 of 32 bytes); without it, the plaintext protocol",
    },
    password: { type: 'string', description: 'The legacy API password of devices before ESPHome 2026.1 (newer ones ignore it)' },
    setupTimeout: { type: 'number', exclusiveMinimum: 0, default: 10, description: 'Seconds connecting, handshake and sensor list may take' },
    keepalive: {
      type: 'number',
      minimum: 1,
      default: 20,
      description: 'Seconds of silence after which the device is pinged; after 4.5 times that it is dropped',
    },
  },
} as const satisfies JsonSchema;

export type EspHomeConfig = SourceParams<typeof schema>;

const MAX_SENSORS = 1024;
const FIRST_STATES_WAIT_MS = 2000;

interface SensorValue {
  info: SensorInfo;
  value?: number;
}

export class EspHomeSource extends Source<EspHomeConfig> {
  static override description = 'ESPHome device sensors from its native API (Noise-encrypted or plaintext)';
  static override schema = schema;

  private readonly psk: Buffer | undefined;
  private readonly where: string;
  private session: EspHomeSession | undefined;
  private readonly link: Reconnect;
  private sensors = new Map<number, SensorValue>();
  /** Every sensor has sent its state since the session became ready. */
  private statesSeen = false;
  private firstStates = new Set<number>();

  constructor(config: EspHomeConfig, context?: PluginContext) {
    super(config, context);
    checkHost('host', config.host);
    this.where = `${config.host}:${config.port}`;
    this.link = new Reconnect({ peer: this.where, notConnected: 'no ESPHome session with', log: this.context.log, open: () => this.connect() });
    if (config.psk !== undefined) {
      // The key's name does not say "secret", so the config loader does not register it: do it here.
      registerSecret(config.psk);
      try {
        this.psk = decodePsk(config.psk);
      } catch (err) {
        throw new ParamError('psk', errorMessage(err));
      }
    }
  }

  override init(_ctx: InitContext): void {
    this.link.start();
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    await this.link.ready(ctx);
    if (!this.statesSeen && this.sensors.size > 0) {
      // The states follow the subscription: a probe just after it waits for them a little (so
      // `--once` reports values), and reports what it has if they are late.
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(FIRST_STATES_WAIT_MS)]);
      await this.link.arrivals.wait({ ...ctx, signal }, '').catch(() => {});
      this.statesSeen = true; // waited once: a sensor that never sends does not slow every probe
      this.link.assertUp();
    }
    const out: Sample[] = [];
    for (const { info, value } of this.sensors.values()) {
      if (value === undefined) continue;
      out.push({
        // As the Python pollect: named by device class, labelled by the sensor's name.
        ...(info.device_class ? { name: info.device_class } : {}),
        value,
        labels: { name: info.name || info.object_id },
        ...(info.unit_of_measurement ? { unit: info.unit_of_measurement } : {}),
      });
    }
    return out;
  }

  private async connect(): Promise<void> {
    const types = await apiTypes();
    if (this.link.stopped) return;
    const socket = net.connect({ host: this.config.host, port: this.config.port });
    socket.setNoDelay(true);
    const session = new EspHomeSession(
      socket,
      types,
      {
        psk: this.psk,
        password: this.config.password,
        clientInfo: 'pollect',
        setupTimeoutMs: this.config.setupTimeout * 1000,
        keepaliveMs: this.config.keepalive * 1000,
        maxSensors: MAX_SENSORS,
      },
      {
        onReady: (device) => this.onReady(device),
        onState: (state) => {
          const sensor = this.sensors.get(state.key);
          if (!sensor) return;
          if (!this.statesSeen) {
            // A device sends every sensor's state on subscription: once all are in, a probe waiting for them goes on.
            this.firstStates.add(state.key);
            if (this.firstStates.size >= this.sensors.size) {
              this.statesSeen = true;
              this.link.arrivals.wake();
            }
          }
          // A sensor without a state yet (NaN on the wire) reports nothing.
          sensor.value = state.missing_state || !Number.isFinite(state.state) ? undefined : float32ToDecimal(state.state);
        },
        onClose: (reason) => {
          this.session = undefined;
          this.link.lost(reason);
        },
      },
    );
    this.session = session;
    session.start();
  }

  private onReady(device: DeviceInfo): void {
    this.sensors = new Map(device.sensors.map((info) => [info.key, { info }]));
    this.statesSeen = false;
    this.firstStates = new Set();
    this.context.log.debug(`${this.where}: connected to ${device.name || 'device'} (${device.serverInfo}), ${device.sensors.length} sensors`);
    this.link.up();
  }

  override shutdown(): void {
    this.link.stop();
    this.session?.stop();
    this.session = undefined;
  }
}

/** A float32 as the shortest decimal that is the same float32: 23.4, not 23.399999618530273. */
export function float32ToDecimal(v: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const d = Number(v.toPrecision(digits));
    if (Math.fround(d) === v) return d;
  }
  return v;
}
