// Fritz (the Python pollect's FritzSource): the WAN traffic counters of a FRITZ!Box, through TR-064
// (SOAP on port 49000 with HTTP digest authentication), and their rates per second.
import {
  Source,
  SourceError,
  registerSecret,
  type JsonSchema,
  type PluginContext,
  type ProbeContext,
  type Sample,
  type SourceParams,
} from '../../sdk/index.js';
import { checkHost, portParam, maxBytesParam } from '../../sdk/params.js';
import { RateTracker, monotonicMs } from '../../sdk/rate.js';
import { type CallOptions, type Service, Tr064Client, parseServices } from './tr064.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ip: {
      type: 'string',
      minLength: 1,
      default: '169.254.1.1',
      description: "Address or host name of the FRITZ!Box (the default is its fallback address, as fritzconnection's)",
    },
    pass: { type: 'string', description: 'Password of the FRITZ!Box user (TR-064 asks for one; without it the calls go unauthenticated)' },
    user: {
      type: 'string',
      minLength: 1,
      description: 'FRITZ!Box user (default: the last user who logged in, as the box lists it, else "dslf-config", as fritzconnection does)',
    },
    port: { ...portParam, default: 49000, description: 'TR-064 port (HTTP)' },
    maxBytes: maxBytesParam(1024 * 1024),
  },
} as const satisfies JsonSchema;

export type FritzConfig = SourceParams<typeof schema>;

const WAN_TR064 = 'urn:dslforum-org:service:WANCommonInterfaceConfig:1';
/** The IGD (UPnP) service older boxes offer instead (fritzconnection's WANCommonIFC1). */
const WAN_IGD = 'urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1';
const SECURITY = 'urn:dslforum-org:service:LANConfigSecurity:1';
/** TR-064's historic user, for boxes before FRITZ!OS 7.24 and when the box lists none. */
const DEFAULT_USER = 'dslf-config';
/** GetTotalBytes* are ui4: they wrap at 2^32. */
const WRAP = 2 ** 32;

/** The counters: action, output argument, pollect's name, its rate's name, the Prometheus counter. */
const COUNTERS = [
  ['GetTotalBytesReceived', 'NewTotalBytesReceived', 'recv_bytes', 'recv_bytes_sec', 'received_bytes_total'],
  ['GetTotalBytesSent', 'NewTotalBytesSent', 'sent_bytes', 'sent_bytes_sec', 'sent_bytes_total'],
] as const;

export class FritzSource extends Source<FritzConfig> {
  static override description = 'FRITZ!Box WAN traffic (bytes received and sent, and per second) over TR-064';
  static override schema = schema;

  private readonly client: Tr064Client;
  private readonly rates = new RateTracker();
  private wan: Service | undefined;
  private userKnown = false;

  constructor(config: FritzConfig, context?: PluginContext) {
    super(config, context);
    const host = checkHost('ip', config.ip);
    if (config.pass !== undefined) registerSecret(config.pass);
    this.client = new Tr064Client(`http://${host}:${config.port}`, config.pass);
    if (config.user !== undefined) {
      this.client.user = config.user;
      this.userKnown = true;
    }
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const opts: CallOptions = { timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxBytes: this.config.maxBytes };
    const wan = (this.wan ??= await this.findWan(opts));
    const out: Sample[] = [];
    const counts: number[] = [];
    for (const [action, arg, name, , promName] of COUNTERS) {
      const answer = await this.client.call(wan, action, opts);
      const text = answer[arg];
      const value = Number(text);
      if (text === undefined || !/^\d+$/.test(text.trim()) || value >= WRAP) {
        throw new SourceError(`${action}: ${arg} is ${text === undefined ? 'missing' : `"${text.slice(0, 40)}"`}, not a ui4 byte count`);
      }
      counts.push(value);
      out.push({ name, value, naming: 'pollect' });
      out.push({ name: promName, value, type: 'counter', unit: 'bytes', naming: 'prometheus' });
    }
    const now = monotonicMs();
    COUNTERS.forEach(([, , , rateName], i) => {
      const r = this.rates.rate(rateName, counts[i]!, now, { wrap: WRAP });
      if (r !== undefined) out.push({ name: rateName, value: r, unit: 'bytes/s', naming: 'pollect' });
    });
    return out;
  }

  override get reportsChanges(): boolean {
    return true;
  }

  /** The WAN counters' service: TR-064's, else the IGD one of older boxes (as the Python pollect falls back). */
  private async findWan(opts: CallOptions): Promise<Service> {
    const services = await parseServices(await this.client.get('/tr64desc.xml', opts), 'tr64desc.xml');
    await this.settleUser(services, opts);
    const tr064 = services.find((s) => s.serviceType === WAN_TR064);
    if (tr064) return tr064;
    const igd = (await parseServices(await this.client.get('/igddesc.xml', opts), 'igddesc.xml')).find((s) => s.serviceType === WAN_IGD);
    if (igd) return igd;
    throw new SourceError('the FRITZ!Box offers no WANCommonInterfaceConfig service (neither in tr64desc.xml nor igddesc.xml)');
  }

  /**
   * Without `user`: FRITZ!OS 7.24 and later want a real user, so take the one who logged in last
   * (X_AVM-DE_GetUserList, as fritzconnection and AVM advise); older boxes know dslf-config.
   */
  private async settleUser(services: Service[], opts: CallOptions): Promise<void> {
    if (this.userKnown) return;
    this.client.user = DEFAULT_USER;
    const security = services.find((s) => s.serviceType === SECURITY);
    if (security && this.config.pass !== undefined) {
      try {
        const list = (await this.client.call(security, 'X_AVM-DE_GetUserList', opts))['NewX_AVM-DE_UserList'];
        const last = list && /<Username[^>]*\blast_user="1"[^>]*>([^<]+)<\/Username>/.exec(list)?.[1];
        if (last) this.client.user = last.trim();
      } catch (err) {
        if (opts.signal.aborted) throw err;
        // Boxes before 7.24 lack the action: dslf-config it is.
        this.context.log.debug(`Fritz: no user list (${(err as Error).message}), using ${DEFAULT_USER}`);
      }
    }
    this.userKnown = true;
  }
}
