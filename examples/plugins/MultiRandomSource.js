// The same idea in plain JavaScript, returning several named values: `<collection>.MultiRandom.a`, `.b`.
import { Source } from 'pollect';

export class MultiRandomSource extends Source {
  static description = 'Two random numbers, a and b';

  probe() {
    return { a: Math.random(), b: Math.random() };
  }
}
