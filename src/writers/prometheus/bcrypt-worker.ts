// bcrypt off the event loop. bcryptjs's own async mode still runs in 100 ms slices on the main
// thread: one check at cost 10 held the event loop for 114 ms, four at once for 410 ms, which
// would make the executors' ticks late. So checks run one after another on a worker thread,
// started at the first check and ended after IDLE_MS without one (a worker costs a few MB).
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

/** A worker with nothing to check for this long is ended. */
const IDLE_MS = 10_000;

const require = createRequire(import.meta.url);

/** The worker's code: CommonJS, handed in as text so that it runs the same from src/ and dist/. */
const code = (bcryptPath: string): string => `
const { parentPort } = require('node:worker_threads');
const bcrypt = require(${JSON.stringify(bcryptPath)});
parentPort.on('message', ({ id, password, hash }) => {
  let ok = false;
  try {
    ok = bcrypt.compareSync(password, hash);
  } catch {
    // A hash bcrypt cannot read matches nothing.
  }
  parentPort.postMessage({ id, ok });
});
`;

interface Waiting {
  resolve: (ok: boolean) => void;
  reject: (err: Error) => void;
}

export class BcryptWorker {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting>();
  private idleTimer: NodeJS.Timeout | undefined;

  /** Whether `password` matches the bcrypt `hash`, checked in constant time on the worker. */
  compare(password: string, hash: string): Promise<boolean> {
    clearTimeout(this.idleTimer);
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, password, hash });
    });
  }

  /** Ends the worker; checks still waiting fail. */
  close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new Error('the password checker stopped'));
    return worker ? worker.terminate().then(() => undefined) : Promise.resolve();
  }

  private start(): Worker {
    const worker = new Worker(code(require.resolve('bcryptjs')), { eval: true });
    // The server keeps the process alive, not the checker.
    worker.unref();
    worker.on('message', ({ id, ok }: { id: number; ok: boolean }) => {
      this.waiting.get(id)?.resolve(ok);
      this.waiting.delete(id);
      if (this.waiting.size === 0) {
        this.idleTimer = setTimeout(() => void this.close(), IDLE_MS);
        this.idleTimer.unref();
      }
    });
    const gone = (err: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(err);
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`the password checker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}
