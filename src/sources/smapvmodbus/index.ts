// SmaPvModbus (the Python pollect's SmaPvModbusSource): temperature, grid frequency, power, total
// yield, DC input and the AC phase voltages of an SMA PV inverter over Modbus TCP. The connection
// is kept between probes; the first probe after (re)connecting asks the inverter for its Modbus
// unit id (register 42109 with unit id 1), as the Python pollect does.
import { Source, SourceError, errorMessage, type JsonSchema, type PluginContext, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { checkHost, portParam } from '../../sdk/params.js';
import { REGISTERS, UNIT_ID_REGISTER, decodeRegister, registerCount, registerSample } from './registers.js';

type ModbusClient = InstanceType<typeof import('modbus-serial')['default']>;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['host'],
  properties: {
    host: { type: 'string', minLength: 1, description: 'IP address or host name of the inverter (Modbus TCP must be enabled on it)' },
    port: { ...portParam, default: 502, description: 'Modbus TCP port' },
  },
} as const satisfies JsonSchema;

export type SmaPvModbusConfig = SourceParams<typeof schema>;

/** The unit id SMA inverters answer the unit-id query on. */
const QUERY_UNIT_ID = 1;

export class SmaPvModbusSource extends Source<SmaPvModbusConfig> {
  static override description = 'SMA PV inverter values (power, yield, DC input, AC voltages) over Modbus TCP';
  static override schema = schema;

  private client: ModbusClient | undefined;
  /** Rejects when the current client's connection closes. */
  private closed: Promise<never> = new Promise(() => {});
  private readonly where: string;

  constructor(config: SmaPvModbusConfig, context?: PluginContext) {
    super(config, context);
    checkHost('host', config.host);
    this.where = `${config.host}:${config.port}`;
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    try {
      return await untilAborted(this.read(ctx), ctx.signal, () => `no answer from the inverter at ${this.where} within ${ctx.timeoutMs} ms`);
    } catch (err) {
      // Whatever went wrong, the next probe starts on a fresh connection.
      this.close();
      throw err instanceof SourceError ? err : new SourceError(`SMA inverter at ${this.where}: ${modbusMessage(err).slice(0, 200)}`);
    }
  }

  private async read(ctx: ProbeContext): Promise<Sample[]> {
    // An inverter may close an idle connection between probes: open a new one then.
    if (this.client && !this.client.isOpen) this.close();
    const client = this.client ?? (await this.connect(ctx));
    const out: Sample[] = [];
    for (const reg of REGISTERS) {
      const data = await this.readRegisters(client, reg.address, registerCount(reg.type));
      out.push(registerSample(reg, decodeRegister(reg, data)));
    }
    return out;
  }

  /** Holding registers; modbus-serial leaves a request waiting when the peer closes, so that ends it too. */
  private async readRegisters(client: ModbusClient, address: number, count: number): Promise<number[]> {
    const { data } = await Promise.race([client.readHoldingRegisters(address, count), this.closed]);
    return data;
  }

  private async connect(ctx: ProbeContext): Promise<ModbusClient> {
    // Loaded on first use: only configs with this source pay for it.
    // CommonJS: under NodeNext its typings and its runtime `default` disagree, hence the cast.
    const ModbusRTU = (await import('modbus-serial')).default as unknown as new () => ModbusClient;
    const client = new ModbusRTU();
    this.client = client;
    // The probe's signal bounds every request; the client's own timeout only frees it after that.
    await client.connectTCP(this.config.host, { port: this.config.port, timeout: ctx.timeoutMs + 1000 });
    this.closed = new Promise<never>((_, reject) => client.on('close', () => reject(new SourceError(`SMA inverter at ${this.where} closed the connection`))));
    this.closed.catch(() => {}); // only read through readRegisters
    client.setTimeout(ctx.timeoutMs + 1000);
    client.setID(QUERY_UNIT_ID);
    const data = await this.readRegisters(client, UNIT_ID_REGISTER.address, UNIT_ID_REGISTER.count);
    const unitId = data[UNIT_ID_REGISTER.count - 1];
    if (unitId === undefined || unitId < 1 || unitId > 247) throw new SourceError(`SMA inverter at ${this.where} reports no valid Modbus unit id (${unitId})`);
    client.setID(unitId);
    return client;
  }

  private close(): void {
    const client = this.client;
    this.client = undefined;
    // destroy, not close: it also ends a connection still being made, and cancels what waits.
    client?.destroy(() => {});
  }

  override shutdown(): void {
    this.close();
  }
}

/** `work`, or a SourceError with `message()` when `signal` aborts first. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, message: () => string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(new SourceError(message()));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** modbus-serial rejects with plain objects too (`{ name, message, errno }`), not only Errors. */
function modbusMessage(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return err instanceof Error || typeof message !== 'string' ? errorMessage(err) : errorMessage(new Error(message));
}
