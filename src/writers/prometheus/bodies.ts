// Scrape bodies: rendered once per store version, format and encoding and shared by every scrape
// that asks for the same one, so N concurrent scrapes of a tick cost one render (and one gzip);
// and a bound on the bodies held for scrapers that have not read them yet.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Format } from './render.js';

/** The bodies of the current store version; an older version's are dropped when a newer one is asked for. */
export class BodyCache {
  private version = -1;
  private readonly raw = new Map<Format, Buffer>();
  private readonly gzipped = new Map<Format, Promise<Buffer>>();

  /** The exposition at `version`, rendered on the first ask. */
  body(version: number, format: Format, render: () => Buffer): Buffer {
    this.at(version);
    let body = this.raw.get(format);
    if (!body) this.raw.set(format, (body = render()));
    return body;
  }

  /**
   * The same, gzipped on the thread pool on the first ask: the event loop is not held up. node:zlib
   * is loaded then: small expositions, the usual case, always go out plain.
   */
  gzip(version: number, format: Format, render: () => Buffer): Promise<Buffer> {
    const raw = this.body(version, format, render);
    let zipped = this.gzipped.get(format);
    if (!zipped) {
      zipped = import('node:zlib').then(
        ({ gzip }) => new Promise<Buffer>((resolve, reject) => gzip(raw, { level: 1 }, (err, out) => (err ? reject(err) : resolve(out)))),
      );
      this.gzipped.set(format, zipped);
    }
    return zipped;
  }

  private at(version: number): void {
    if (version === this.version) return;
    this.version = version;
    this.raw.clear();
    this.gzipped.clear();
  }
}

/**
 * Bytes of the distinct bodies held by responses not yet finished (a scraper that does not read
 * keeps its body alive until its connection goes). A body already held costs nothing more; the
 * first body is always taken, so an exposition larger than the bound is still served.
 */
export class HeldBodies {
  private readonly held = new Map<Buffer, number>();
  private bytes = 0;
  /** Releases by connection: a response queued behind one its client never reads gets no 'close' of its own. */
  private readonly bySocket = new Map<Duplex, Set<() => void>>();

  constructor(readonly maxBytes: number) {}

  /** Holds `body` until `res` or its connection closes; false, holding nothing, when that would pass maxBytes. */
  hold(body: Buffer, res: ServerResponse): boolean {
    const socket = res.req.socket;
    // A connection already gone (a gzip finished after it closed) sends nothing and would never release.
    if (socket.destroyed) return true;
    const holders = this.held.get(body);
    if (holders === undefined) {
      if (this.bytes > 0 && this.bytes + body.length > this.maxBytes) return false;
      this.bytes += body.length;
    }
    this.held.set(body, (holders ?? 0) + 1);
    let releases = this.bySocket.get(socket);
    if (!releases) {
      const all = (releases = new Set());
      this.bySocket.set(socket, all);
      socket.once('close', () => {
        this.bySocket.delete(socket);
        for (const r of all) r();
      });
    }
    const release = (): void => {
      res.off('close', release);
      releases.delete(release);
      const left = this.held.get(body)! - 1;
      if (left > 0) this.held.set(body, left);
      else {
        this.held.delete(body);
        this.bytes -= body.length;
      }
    };
    releases.add(release);
    res.once('close', release);
    return true;
  }
}
