// An example plugin source: a random value between 0 and `max`, as the Python pollect's
// SingleRandomSource. Run it with: pollect -c examples/random.yml --dry-run --once
import { Source, type JsonSchema, type SourceParams } from 'pollect';

// Optional: with a schema, a typo in a param is a config error naming its path, the config
// loader fills the defaults in, and the params' type follows from it.
const schema = {
  type: 'object',
  additionalProperties: false,
  properties: { max: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'Upper bound' } },
} as const satisfies JsonSchema;

export class RandomSource extends Source<SourceParams<typeof schema>> {
  static override description = 'A random number between 0 and max';
  static override schema = schema;

  probe(): number {
    return Math.random() * this.config.max;
  }
}
