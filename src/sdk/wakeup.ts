// For sources fed by something that runs on its own (a long-running child, datagrams): a probe that
// finds nothing yet waits for the next arrival, but never past its own abort signal.
import { SourceError, type ProbeContext } from './index.js';

export class Wakeup {
  private waiters: (() => void)[] = [];

  /** Resolves at the next wake(); rejects with `SourceError(timeoutMessage)` when the probe is aborted first. */
  wait(ctx: ProbeContext, timeoutMessage: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new SourceError(timeoutMessage));
      };
      const done = (): void => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve();
      };
      if (ctx.signal.aborted) return onAbort();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(done);
    });
  }

  /** Lets every waiting probe go on. */
  wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
