// An example plugin source: a random value between 0 and `max`, as the Python pollect's
// SingleRandomSource. Run it with: pollect -c examples/random.yml --dry-run --once
import { Source, type JsonSchema, type SourceConfig } from 'pollect';

interface RandomConfig extends SourceConfig {
  max?: number;
}

export class RandomSource extends Source<RandomConfig> {
  static override description = 'A random number between 0 and max';
  // Optional: with a schema, a typo in a param is a config error naming its path.
  static override schema: JsonSchema = {
    type: 'object',
    properties: { max: { type: 'number', exclusiveMinimum: 0, default: 1 } },
  };

  probe(): number {
    return Math.random() * (this.config.max ?? 1);
  }
}
