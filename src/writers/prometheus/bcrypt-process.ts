// bcrypt in a child process. Not on the main thread: bcryptjs's async mode runs in 100 ms slices
// there, so one check at cost 10 held the event loop for 114 ms and four at once for 410 ms,
// making the executors' ticks late. Not on a worker thread either: V8's flags are the process's,
// and the launcher (bin/pollect.js) turns the optimising compiler off, under which one check
// takes 6 to 8 s of CPU instead of 0.1 to 0.3 s. So checks run one after another in a plain
// `node` child, started at the first check and ended after IDLE_MS without one (it holds about
// 48 MB of RSS while it runs).
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';

/** A checker with nothing to check for this long is ended. */
const IDLE_MS = 10_000;

const require = createRequire(import.meta.url);

/** The child's program, handed in as text so that it runs the same from src/ and dist/. */
const program = (bcryptPath: string): string => `
const bcrypt = require(${JSON.stringify(bcryptPath)});
process.on('message', ({ id, password, hash }) => {
  let ok = false;
  try {
    ok = bcrypt.compareSync(password, hash);
  } catch {
    // A hash bcrypt cannot read matches nothing.
  }
  process.send({ id, ok });
});
process.on('disconnect', () => process.exit(0));
`;

interface Waiting {
  resolve: (ok: boolean) => void;
  reject: (err: Error) => void;
}

export class BcryptProcess {
  private child: ChildProcess | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting>();
  private idleTimer: NodeJS.Timeout | undefined;

  /** Whether `password` matches the bcrypt `hash`, checked in constant time by the child. */
  compare(password: string, hash: string): Promise<boolean> {
    clearTimeout(this.idleTimer);
    const child = this.child ?? this.start();
    const id = this.nextId++;
    // A check under way keeps the process alive; an idle checker does not.
    child.channel?.ref();
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      child.send({ id, password, hash }, (err) => {
        if (!err || !this.waiting.delete(id)) return;
        reject(new Error(`the password checker cannot be reached: ${err.message}`));
      });
    });
  }

  /** Ends the child; checks still waiting fail. */
  close(): void {
    clearTimeout(this.idleTimer);
    const child = this.child;
    this.child = undefined;
    this.failAll(new Error('the password checker stopped'));
    if (child?.connected) child.disconnect();
  }

  private start(): ChildProcess {
    // A plain node: no flags of ours, and no NODE_OPTIONS from the environment.
    const child = spawn(process.execPath, ['-e', program(require.resolve('bcryptjs'))], {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      env: {},
    });
    child.unref();
    child.on('message', ({ id, ok }: { id: number; ok: boolean }) => {
      this.waiting.get(id)?.resolve(ok);
      this.waiting.delete(id);
      if (this.waiting.size > 0) return;
      child.channel?.unref();
      if (this.child === child) {
        this.idleTimer = setTimeout(() => this.close(), IDLE_MS);
        this.idleTimer.unref();
      }
    });
    const gone = (err: Error): void => {
      if (this.child !== child) return;
      this.child = undefined;
      this.failAll(err);
    };
    child.on('error', (err) => gone(new Error(`the password checker failed: ${err.message}`)));
    child.on('exit', (code, signal) => gone(new Error(`the password checker exited (${signal ?? `code ${code}`})`)));
    this.child = child;
    return child;
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}
