// An example plugin source: a random value between min and max, as the Python pollect's
// SingleRandomSource. Run it with: pollect -c examples/random.yml --dry-run --once
import { ParamError, Source, type PluginContext, type SourceParams } from 'pollect';

const schema = {
  type: 'object',
  properties: {
    min: { type: 'number', default: 0, description: 'Lowest value' },
    max: { type: 'number', default: 1, description: 'Highest value' },
  },
  additionalProperties: false,
} as const;

type RandomConfig = SourceParams<typeof schema>;

export class RandomSource extends Source<RandomConfig> {
  static override description = 'A random number between min and max';
  static override schema = schema;

  constructor(config: RandomConfig, context: PluginContext) {
    super(config, context);
    // What a schema cannot say is checked here, so `pollect --check` finds it too.
    if (config.max <= config.min) throw new ParamError('max', `must be greater than min (${config.min})`);
  }

  probe(): number {
    return this.config.min + Math.random() * (this.config.max - this.config.min);
  }
}
