// Reads files under /proc. The kernel generates them in memory when they are read, so they are read
// synchronously, into one buffer the reader reuses (procfs reports size 0: read until EOF). The
// files a source reads every tick keep their descriptor open, since a read from offset 0 makes the
// kernel generate the file again: one pread a tick instead of open, read and close, and a third of
// the time of readFileSync (bench/README.md).
import { closeSync, openSync, read, readSync, readdirSync } from 'node:fs';

export class ProcFiles {
  /** Where /proc is: $HOST_PROC when set (as gopsutil does), for a container that mounts the host's /proc elsewhere and for tests. */
  readonly root: string;
  private buf = Buffer.allocUnsafe(16 * 1024);
  private readonly kept = new Map<string, number>();

  constructor(root = process.env.HOST_PROC || '/proc') {
    this.root = root;
  }

  /** A /proc path moved under the root. */
  path(path: string): string {
    return path.startsWith('/proc') ? this.root + path.slice(5) : path;
  }

  /** The whole file as latin1 text. Throws the fs error (ENOENT for a process that is gone, ...). */
  read(path: string): string {
    const fd = openSync(this.path(path), 'r');
    try {
      return this.readFd(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * read() for a file read every tick, through a descriptor kept open until close(). Under
   * another root the file is opened every time: there it may be an ordinary file that gets replaced.
   */
  readKept(path: string): string {
    if (this.root !== '/proc') return this.read(path);
    let fd = this.kept.get(path);
    if (fd === undefined) {
      fd = openSync(path, 'r');
      this.kept.set(path, fd);
    }
    try {
      return this.readFd(fd);
    } catch (err) {
      this.kept.delete(path);
      closeSync(fd);
      throw err;
    }
  }

  /**
   * read() off the event loop, on libuv's pool: for files whose read can block, as the command line
   * of a process whose memory map is locked.
   */
  readAsync(path: string): Promise<string> {
    // Opening and closing do not block (the read takes the memory map's lock): only the reads go
    // to the pool, and a read that does not fill the buffer is the end (one pool job per file).
    let fd: number;
    try {
      fd = openSync(this.path(path), 'r');
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const next = (): void => {
        const buf = Buffer.allocUnsafe(4096);
        read(fd, buf, 0, buf.length, null, (err, n) => {
          if (err) {
            closeSync(fd);
            return reject(err);
          }
          chunks.push(buf.subarray(0, n));
          if (n === buf.length) return next();
          closeSync(fd);
          resolve(Buffer.concat(chunks).toString('latin1'));
        });
      };
      next();
    });
  }

  /** The numeric entries of /proc (the pids), in the order the kernel lists them. */
  listPids(): number[] {
    return readdirSync(this.root)
      .filter((name) => name.charCodeAt(0) >= 48 && name.charCodeAt(0) <= 57)
      .map(Number);
  }

  /** Closes the descriptors kept open. */
  close(): void {
    for (const fd of this.kept.values()) closeSync(fd);
    this.kept.clear();
  }

  private readFd(fd: number): string {
    let len = 0;
    for (;;) {
      if (len === this.buf.length) {
        const bigger = Buffer.allocUnsafe(this.buf.length * 2);
        this.buf.copy(bigger, 0, 0, len);
        this.buf = bigger;
      }
      const n = readSync(fd, this.buf, len, this.buf.length - len, len);
      if (n === 0) break;
      len += n;
    }
    return this.buf.toString('latin1', 0, len);
  }
}
