// The HTTP server every pollect endpoint uses (the Prometheus writer, HttpIngress): Node's server
// with limits that keep a hostile or broken client from taking the daemon's file descriptors,
// memory or event loop. The limits are per server and fixed; the numbers are documented in
// HTTP_LIMITS.
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import { http, https } from './node-http.js';

export interface HttpLimits {
  /**
   * Open connections. At the cap a new connection closes the connection that has been idle longest
   * (a keep-alive connection or one still sending its headers); when every connection has a
   * request in flight the new one is closed at once. Over HTTPS a connection still in its TLS
   * handshake is not closed to make room; the handshake must be done within headersTimeout.
   */
  maxConnections: number;
  /** Requests one connection may have in flight (pipelined, their answers not yet written); past it the connection is closed. */
  maxPipelined: number;
  /** Seconds a client has to send the request headers, and the whole request. */
  headersTimeout: number;
  requestTimeout: number;
  /** Seconds an idle keep-alive connection stays open. */
  keepAliveTimeout: number;
  /** Largest request head; a larger one is answered 431. */
  maxHeaderBytes: number;
}

/**
 * 256 connections per server: pollect runs one or two HTTP servers, so together they hold at most
 * 512 descriptors, half of the smallest common limit (1024; Node raises the soft limit to the hard
 * one, often 65536 or more), which leaves the rest to files, sockets and child processes. A
 * scraper or a push client needs one connection; 16 pipelined requests is more than any real
 * client sends. Request timeouts are checked every headersTimeout / 2 seconds (5 s), so a slow
 * client is cut off within that of its deadline, and an idle daemon is not woken every second.
 */
export const HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxConnections: 256,
  maxPipelined: 16,
  headersTimeout: 10,
  requestTimeout: 30,
  keepAliveTimeout: 5,
  maxHeaderBytes: 16 * 1024,
});

export interface HttpServerOptions {
  /** PEM key and certificate: serve HTTPS. With `ca`, only clients with a certificate it signed are let in (mutual TLS). */
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer };
  /** Tests shorten these; pollect uses HTTP_LIMITS. */
  limits?: Partial<HttpLimits>;
  log?: Logger;
  /** Names the server in log lines, e.g. "HttpIngress". */
  label?: string;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Creates an HTTP(S) server with the limits above. Listen with listen(), stop with close(). */
export function createHttpServer(handler: RequestHandler, options: HttpServerOptions = {}): Server {
  const limits = { ...HTTP_LIMITS, ...options.limits };
  const serverOptions: ServerOptions = {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeout * 1000,
    requestTimeout: limits.requestTimeout * 1000,
    keepAliveTimeout: limits.keepAliveTimeout * 1000,
    // Node's check runs on a timer whether or not any connection is open: every wake-up counts.
    connectionsCheckingInterval: (limits.headersTimeout * 1000) / 2,
  };
  // node:https (with TLS) is loaded only for a server that uses it: about 1 MB of RSS otherwise.
  const server: Server = options.tls
    ? https().createServer({
        ...serverOptions,
        ...options.tls,
        // A client CA: the handshake fails for a client without a certificate it signed.
        ...(options.tls.ca !== undefined && { requestCert: true, rejectUnauthorized: true }),
        handshakeTimeout: limits.headersTimeout * 1000,
      })
    : http.createServer(serverOptions);
  new Guard(server, handler, limits, options.log, options.label ?? 'HTTP server', options.tls !== undefined);
  return server;
}

const LISTEN_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'not an address of this machine',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'unknown host',
};

/** Listens; a port in use or an address that is not this machine's is a clear error. */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const why = LISTEN_ERRORS[err.code ?? ''] ?? err.message;
      reject(new Error(`cannot listen on ${host}:${port}: ${why}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Stops listening and closes every connection, idle or not. */
export function close(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** The answer to what Node's parser refuses, by error code; anything else is a 400. */
const CLIENT_ERRORS: Readonly<Record<string, number>> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
};

interface Connection {
  inFlight: number;
}

/** Counts connections and requests in flight per connection, and answers what Node's parser refuses. */
class Guard {
  private open = 0;
  /** Connections closed to make room whose 'close' has not come yet: they no longer count. */
  private evicting = 0;
  /** Connections as the HTTP layer sees them (TLS sockets for HTTPS), by when they became idle. */
  private readonly conns = new Map<Duplex, Connection>();
  private readonly idle = new Set<Duplex>();
  private readonly warned = new Set<string>();

  constructor(
    server: Server,
    private readonly handler: RequestHandler,
    private readonly limits: HttpLimits,
    private readonly log: Logger | undefined,
    private readonly label: string,
    tls: boolean,
  ) {
    server.on('connection', (raw: Duplex) => this.onConnection(raw));
    // The HTTP layer gets a TLS socket only once the handshake is done.
    server.on(tls ? 'secureConnection' : 'connection', (socket: Duplex) => this.track(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.onClientError(err, socket));
  }

  private onConnection(raw: Duplex): void {
    this.open++;
    raw.once('close', () => this.open--);
    if (this.open - this.evicting <= this.limits.maxConnections) return;
    const oldest = this.idle.values().next();
    if (oldest.done) {
      this.warnOnce('full', `${this.label}: ${this.limits.maxConnections} connections open, all busy; refusing new ones`);
      raw.destroy();
      return;
    }
    this.warnOnce('evict', `${this.label}: ${this.limits.maxConnections} connections open; closing the longest idle ones to make room`);
    this.evicting++;
    oldest.value.once('close', () => this.evicting--);
    this.forget(oldest.value);
    oldest.value.destroy();
  }

  private track(socket: Duplex): void {
    if (socket.destroyed) return;
    this.conns.set(socket, { inFlight: 0 });
    this.idle.add(socket);
    socket.once('close', () => this.forget(socket));
  }

  private forget(socket: Duplex): void {
    this.conns.delete(socket);
    this.idle.delete(socket);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const conn = this.conns.get(socket);
    // The parser goes on through a read after its connection was closed. Each of those requests
    // is ended here, without an error: Node would end each one with an error at the socket's close
    // and format its stack: a pipelining flood cost 1.4 times the CPU so (bench:pipelining).
    if (!conn || socket.destroyed) {
      req.destroy();
      return;
    }
    conn.inFlight++;
    this.idle.delete(socket);
    if (conn.inFlight > this.limits.maxPipelined) {
      this.warnOnce(
        'pipelined',
        `${this.label}: a client sent more than ${this.limits.maxPipelined} requests without reading the answers; closing its connection`,
      );
      this.forget(socket);
      socket.destroy();
      return;
    }
    res.once('close', () => {
      conn.inFlight--;
      if (conn.inFlight === 0 && this.conns.has(socket)) this.idle.add(socket);
    });
    this.handler(req, res);
  }

  /** What Node's parser refused (too large a head, a timeout, garbage): answer it and close. Never throws. */
  private onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    try {
      const status = CLIENT_ERRORS[err.code ?? ''] ?? 400;
      const answering = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
      // Only where nothing of an answer was written yet, so as not to corrupt one for the client.
      if (err.code !== 'ECONNRESET' && socket.writable && !answering?.headersSent) {
        socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      }
    } catch {
      // The socket is going away in any case.
    }
    socket.destroy();
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return void this.log?.debug(message);
    this.warned.add(key);
    this.log?.warn(message);
  }
}
