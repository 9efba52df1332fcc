// PrometheusSsl: the Python pollect's HTTPS exporter, `{type: PrometheusSsl, port, key, cert}`,
// kept so its configs load unchanged. It is the Prometheus writer with `tls: {key, cert}`.
import { ParamError, type JsonSchema, type PluginContext, type WriterParams } from '../../sdk/index.js';
import { PrometheusWriter, type PrometheusConfig } from '../prometheus/index.js';

const { tls: _tls, ...prometheusParams } = PrometheusWriter.schema.properties;

const schema = {
  type: 'object',
  required: ['key', 'cert'],
  properties: {
    ...prometheusParams,
    key: { type: 'string', minLength: 1, description: 'Private key file (PEM), relative to the config file' },
    cert: { type: 'string', minLength: 1, description: 'Certificate chain file (PEM), relative to the config file' },
  },
} as const satisfies JsonSchema;

export type PrometheusSslConfig = WriterParams<typeof schema>;

export class PrometheusSslWriter extends PrometheusWriter {
  static override description = "The Python pollect's HTTPS exporter: the Prometheus writer with tls from key and cert";
  static override schema = schema as unknown as typeof PrometheusWriter.schema;

  constructor(config: PrometheusSslConfig, context?: PluginContext) {
    const { key, cert, ...rest } = config;
    try {
      super({ ...rest, tls: { key, cert } } as PrometheusConfig, context);
    } catch (err) {
      // The Prometheus writer names tls.key and tls.cert; here they are key and cert.
      if (err instanceof ParamError && err.param.startsWith('tls.')) throw new ParamError(err.param.slice(4), err.message);
      throw err;
    }
  }
}
