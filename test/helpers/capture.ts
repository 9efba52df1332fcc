// A writer that keeps every batch it is given, for tests.
import { Writer, type Batch } from '../../src/sdk/index.js';

export class CaptureWriter extends Writer {
  batches: Batch[] = [];
  constructor() {
    super({ type: 'Capture' });
    this.id = 'Capture';
  }
  write(batch: Batch): void {
    this.batches.push(batch);
  }
}
