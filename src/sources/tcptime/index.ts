// TcpTime: how long a TCP connect to host:port takes. As in pollect, a connect that fails or
// times out is reported as timeout*1000 ms (so graphs show the outage as a spike); `success`
// says which it was.
import net from 'node:net';
import { Source, SourceError, type JsonSchema, type PluginContext, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { checkHost, portParam } from '../../sdk/params.js';
import { monotonicMs } from '../../sdk/rate.js';
import { requestTimeout, requestTimeoutParam } from '../../sdk/timeout.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'port'],
  properties: {
    host: { type: 'string', minLength: 1, description: 'Host name or IP address' },
    port: { ...portParam, description: 'TCP port' },
    timeout: requestTimeoutParam,
  },
} as const satisfies JsonSchema;

export type TcpTimeConfig = SourceParams<typeof schema>;

export interface ConnectResult {
  ok: boolean;
  ms: number;
  error?: string;
}

/** Connects to host:port once and closes at once; never rejects. */
export function timeConnect(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<ConnectResult> {
  return new Promise((resolve) => {
    const start = monotonicMs();
    let done = false;
    const sock = net.connect({ host, port });
    const finish = (ok: boolean, error?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      const ms = monotonicMs() - start;
      sock.destroy();
      resolve({ ok, ms, error });
    };
    const timer = setTimeout(() => finish(false, `no connection within ${timeoutMs} ms`), timeoutMs);
    const onAbort = (): void => finish(false, 'aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => finish(true));
    sock.once('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
  });
}

export class TcpTimeSource extends Source<TcpTimeConfig> {
  static override description = 'TCP connect time to host:port in ms (timeout*1000 when it fails), with success 0/1';
  static override schema = schema;

  constructor(config: TcpTimeConfig, context?: PluginContext) {
    super(config, context);
    checkHost('host', config.host);
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const timeout = requestTimeout(this.config.timeout, ctx.timeoutMs);
    const timeoutS = timeout.seconds;
    const res = await timeConnect(this.config.host, this.config.port, timeout.ms, ctx.signal);
    if (ctx.signal.aborted) throw new SourceError(`connect to ${this.config.host}:${this.config.port} aborted at the probe timeout`);
    if (!res.ok) ctx.reportProblem(`connect to ${this.config.host}:${this.config.port} failed: ${res.error}`);
    return [
      { value: res.ok ? round3(res.ms) : timeoutS * 1000, unit: 'ms', help: 'TCP connect time (timeout*1000 on failure)' },
      { name: 'success', value: res.ok ? 1 : 0, help: '1 when the connection was accepted' },
    ];
  }
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
