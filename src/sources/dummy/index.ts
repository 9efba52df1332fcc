// Dummy: returns a configured value, optionally after a delay or with an error. For tests and
// for trying a config out.
import { Source, SourceError, type JsonSchema, type ProbeContext, type SourceParams } from '../../sdk/index.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    value: {
      description: 'The value, or a {valueName: number} record (one sample per key)',
      oneOf: [{ type: 'number' }, { type: 'object', additionalProperties: { type: 'number' } }],
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
    return this.config.value;
  }
}
