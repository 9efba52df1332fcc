// Dummy: returns a configured value, optionally after a delay or with an error. For tests and
// for trying a config out.
import { Source, SourceError, type JsonSchema, type PluginContext, type ProbeContext, type SourceParams } from '../../sdk/index.js';

/** A decimal number written as a string ("1", "-2.5", "1e3"), as `${VALUE}` gives one. */
const NUMERIC = '^\\s*[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?\\s*$';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    value: {
      description: 'The value (a number, or a numeric string such as "${VALUE}"), or a {valueName: number} record (one sample per key)',
      oneOf: [
        { type: 'number' },
        { type: 'string', pattern: NUMERIC, title: 'a numeric string' },
        { type: 'object', additionalProperties: { type: 'number' } },
      ],
      default: 1,
    },
    sleep: { type: 'number', minimum: 0, default: 0, description: 'Seconds to wait before answering (aborted at the timeout)' },
    error: { type: 'string', description: 'Fail every probe with this message' },
  },
} as const satisfies JsonSchema;

export type DummyConfig = SourceParams<typeof schema>;

export class DummySource extends Source<DummyConfig> {
  static override description = 'A fixed value, optionally delayed or failing: for tests and trying configs';
  static override schema = schema;

  private readonly value: number | Record<string, number>;

  constructor(config: DummyConfig, context?: PluginContext) {
    super(config, context);
    // The Python pollect's configs give the value as a string (`value: "${VALUE}"`).
    this.value = typeof config.value === 'string' ? Number(config.value) : config.value;
  }

  async probe(ctx: ProbeContext): Promise<number | Record<string, number>> {
    const { sleep } = this.config;
    if (sleep > 0) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, sleep * 1000);
        ctx.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            reject(new SourceError('aborted'));
          },
          { once: true },
        );
      });
    }
    if (this.config.error !== undefined) throw new SourceError(this.config.error);
    return this.value;
  }
}
