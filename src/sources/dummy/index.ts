// Dummy: returns a configured value, optionally after a delay or with an error. For tests and
// for trying a config out.
import { Source, SourceError, type ProbeContext, type SourceConfig } from '../../sdk/index.js';
import type { JsonSchema } from '../../sdk/index.js';

export interface DummyConfig extends SourceConfig {
  value?: number | Record<string, number>;
  /** Seconds to wait before answering. */
  sleep?: number;
  /** When set, every probe fails with this message. */
  error?: string;
}

export class DummySource extends Source<DummyConfig> {
  static override description = 'A fixed value, optionally delayed or failing: for tests and trying configs';
  static override schema: JsonSchema = {
    type: 'object',
    properties: {
      value: {
        description: 'The value, or a {valueName: number} record (default 1)',
        oneOf: [{ type: 'number' }, { type: 'object', additionalProperties: { type: 'number' } }],
      },
      sleep: { type: 'number', minimum: 0, description: 'Seconds to wait before answering' },
      error: { type: 'string', description: 'Fail every probe with this message' },
    },
  };

  async probe(ctx: ProbeContext): Promise<number | Record<string, number>> {
    const sleep = this.config.sleep ?? 0;
    if (sleep > 0) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, sleep * 1000);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new SourceError('aborted'));
        }, { once: true });
      });
    }
    if (this.config.error !== undefined) throw new SourceError(this.config.error);
    return this.config.value ?? 1;
  }
}
