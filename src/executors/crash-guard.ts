// Errors nothing caught: a plugin's `setTimeout(() => { throw ... })` or a promise it never
// awaited. They are logged and, when the stack names a plugin's file, counted as that source's
// failure; the daemon keeps running either way.
import { pathToFileURL } from 'node:url';
import type { Logger } from '../sdk/index.js';
import { errorMessage } from '../log.js';

export interface CrashTarget {
  readonly id: string;
  /** Counts the error as a failed probe of this source. */
  crashed(err: unknown): void;
}

export class CrashGuard {
  private readonly byFile = new Map<string, CrashTarget>();
  private readonly log: Logger;
  private unattributed = 0;

  constructor(log: Logger) {
    this.log = log;
  }

  /** Errors whose stack runs through `file` belong to `target`. */
  watch(file: string, target: CrashTarget): void {
    // Stacks name ES modules by URL (file:///...), with some characters escaped.
    this.byFile.set(file, target);
    this.byFile.set(pathToFileURL(file).href, target);
  }

  /** The handler for 'uncaughtException' and 'unhandledRejection'. */
  readonly handle = (err: unknown): void => {
    const target = this.attribute(err);
    if (target) {
      target.crashed(err);
      return;
    }
    this.unattributed++;
    // Logged once, then at debug: a timer that throws every second must not flood the log.
    const msg = `an error no source caught: ${errorMessage(err)}`;
    if (this.unattributed === 1) this.log.error(`${msg} (pollect keeps running; later ones are logged at debug)`);
    else this.log.debug(msg);
  };

  private attribute(err: unknown): CrashTarget | undefined {
    const stack = stackOf(err);
    if (!stack) return undefined;
    for (const [file, target] of this.byFile) if (stack.includes(file)) return target;
    return undefined;
  }

  install(): () => void {
    process.on('uncaughtException', this.handle);
    process.on('unhandledRejection', this.handle);
    return () => {
      process.off('uncaughtException', this.handle);
      process.off('unhandledRejection', this.handle);
    };
  }
}

/** An error's stack, or '' when it has none or reading it throws. */
function stackOf(err: unknown): string {
  try {
    const stack = (err as { stack?: unknown } | null)?.stack;
    return typeof stack === 'string' ? stack : '';
  } catch {
    return '';
  }
}
