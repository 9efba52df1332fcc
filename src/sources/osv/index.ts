// OSv: memory, uptime, thread CPU time and trace-point counters from an OSv unikernel's REST API
// (httpserver-api, the successor of snap's OSv collector).
import { Source, SourceError, type JsonSchema, type PluginContext, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { checkHost, portParam } from '../../sdk/params.js';
import { expectOk, httpJson, httpRequest, safeUrl } from '../../sdk/http.js';
import { parseLong, parseThreads, parseTraceCounts } from './parse.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['host'],
  properties: {
    host: { type: 'string', minLength: 1, description: 'Host name or address of the OSv instance' },
    port: { ...portParam, default: 8000, description: 'Port of the REST API' },
    traces: {
      type: 'array',
      items: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
      default: [],
      description: 'Trace point names to count, e.g. waitqueue_wake_one, callout_reset, virtio_net_rx_packet; enabled on the instance if needed',
    },
  },
} as const satisfies JsonSchema;

export type OSvConfig = SourceParams<typeof schema>;

// Bodies are small: a bare number, or one object per thread / enabled counter.
const SCALAR_MAX_BYTES = 64 * 1024;
const LIST_MAX_BYTES = 8 * 1024 * 1024;

export class OSvSource extends Source<OSvConfig> {
  static override description = 'OSv unikernel REST API: memory, uptime, thread CPU time, trace-point counters';
  static override schema = schema;

  private readonly base: string;

  constructor(config: OSvConfig, context?: PluginContext) {
    super(config, context);
    this.base = `http://${checkHost('host', config.host)}:${config.port}`;
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    try {
      return await this.collect(ctx);
    } catch (err) {
      // The probe's own deadline and the request's fire together; say which one it was.
      if (ctx.signal.aborted) throw new SourceError(`${this.base}: no complete answer within ${ctx.timeoutMs} ms`);
      throw err;
    }
  }

  private async collect(ctx: ProbeContext): Promise<Sample[]> {
    const get = (path: string, maxBytes: number): Promise<unknown> =>
      httpJson({ url: this.base + path, timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxBytes });
    const { traces } = this.config;
    const [free, total, uptime, threads, counts] = await Promise.all([
      get('/os/memory/free', SCALAR_MAX_BYTES).then((v) => parseLong(v, 'GET /os/memory/free')),
      get('/os/memory/total', SCALAR_MAX_BYTES).then((v) => parseLong(v, 'GET /os/memory/total')),
      get('/os/uptime', SCALAR_MAX_BYTES).then((v) => parseLong(v, 'GET /os/uptime')),
      get('/os/threads', LIST_MAX_BYTES).then((v) => parseThreads(v, 'GET /os/threads')),
      traces.length > 0 ? this.traceCounts(ctx, traces) : Promise.resolve(new Map<string, number>()),
    ]);
    const samples: Sample[] = [
      { name: 'memory.free', value: free, unit: 'bytes', help: 'Free memory of the OSv instance' },
      { name: 'memory.total', value: total, unit: 'bytes', help: 'Total memory of the OSv instance' },
      { name: 'uptime', value: uptime, unit: 'seconds', help: 'Seconds since the OSv instance booted' },
      {
        name: 'cpu.cputime',
        value: threads.cpuMs,
        type: 'counter',
        unit: 'milliseconds',
        help: 'CPU time of all current threads, summed (drops when a busy thread exits)',
      },
      { name: 'threads', value: threads.threads, help: 'Number of threads' },
    ];
    for (const name of traces) {
      const count = counts.get(name);
      if (count === undefined) continue;
      samples.push({ name: 'trace', value: count, type: 'counter', labels: { tracepoint: name }, help: 'Trace point hits since the counter was enabled' });
    }
    return samples;
  }

  /** The counters of `/trace/count`, after enabling any requested one that is not counted yet. */
  private async traceCounts(ctx: ProbeContext, traces: readonly string[]): Promise<Map<string, number>> {
    const fetchCounts = async (): Promise<Map<string, number>> =>
      parseTraceCounts(
        await httpJson({ url: `${this.base}/trace/count`, timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxBytes: LIST_MAX_BYTES }),
        'GET /trace/count',
      );
    const counts = await fetchCounts();
    // The list holds only enabled counters; an OSv reboot disables them all, so this is checked every probe.
    const missing = traces.filter((t) => !counts.has(t));
    if (missing.length === 0) return counts;
    for (const name of missing) {
      const url = `${this.base}/trace/count/${encodeURIComponent(name)}?enabled=true`;
      const res = await httpRequest({ url, method: 'POST', timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxBytes: SCALAR_MAX_BYTES });
      if (res.status === 400 || res.status === 404) {
        throw new SourceError(`OSv has no trace point "${name}" (POST ${safeUrl(url)}: HTTP ${res.status}); check "traces"`);
      }
      expectOk(res, `POST ${safeUrl(url)}`);
    }
    return fetchCounts();
  }
}
