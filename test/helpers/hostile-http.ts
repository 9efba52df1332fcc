// Hostile HTTP clients on loopback, bounded in count and time: slow-header sockets, raw requests
// (oversized heads, pipelining) and stalled large bodies. For the tests of every pollect HTTP server.
import net from 'node:net';

export interface SocketCrowd {
  /** How many of the sockets the server has closed so far. */
  closedByServer(): number;
  /** Sockets still open. */
  open(): number;
  destroy(): void;
}

/**
 * Opens `count` connections that each send `head` (the start of a request) and then nothing more;
 * resolves once every one is connected or closed, within timeoutMs.
 */
export async function crowd(port: number, count: number, head: string | Buffer, timeoutMs = 10_000): Promise<SocketCrowd> {
  const sockets: net.Socket[] = [];
  let closed = 0;
  let destroying = false;
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          const s = net.connect({ port, host: '127.0.0.1' });
          sockets.push(s);
          const timer = setTimeout(resolve, timeoutMs);
          s.on('error', () => {});
          s.once('connect', () => {
            s.write(head);
            clearTimeout(timer);
            resolve();
          });
          s.once('close', () => {
            if (!destroying) closed++;
            clearTimeout(timer);
            resolve();
          });
          s.resume();
        }),
    ),
  );
  return {
    closedByServer: () => closed,
    open: () => sockets.filter((s) => !s.destroyed).length,
    destroy: () => {
      destroying = true;
      for (const s of sockets) s.destroy();
    },
  };
}

/** Waits until cond() holds, polling every 20 ms, for at most timeoutMs; returns whether it held. */
export async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

export interface RawAnswer {
  /** Everything the server sent. */
  text: string;
  /** Whether the server closed (or reset) the connection before timeoutMs. */
  closed: boolean;
}

/** Sends `data` on a fresh connection and collects what comes back until the server closes it or timeoutMs passes. */
export function rawExchange(port: number, data: string | Buffer, timeoutMs = 5_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    const parts: Buffer[] = [];
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve({ text: Buffer.concat(parts).toString('latin1'), closed });
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', () => done(true));
    s.on('close', () => done(true));
    s.once('connect', () => s.write(data));
  });
}

/** The status codes of every answer in a raw exchange, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

/** `count` minimal GETs to send in one write (pipelining); with `closeLast` the last one asks the server to close. */
export function pipelinedGets(count: number, closeLast = false): string {
  const get = (close: boolean): string => `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
  return get(false).repeat(count - 1) + get(closeLast);
}

/** A request head whose one header is `bytes` long. */
export function oversizedHead(bytes: number, method = 'GET'): string {
  return `${method} / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(bytes)}\r\n\r\n`;
}

/** This process's resident set size in bytes, as the kernel reports it. */
export function rss(): number {
  return process.memoryUsage.rss();
}
