// The Graphite writer's send queue, with no socket: encoded messages waiting to be sent, and the
// ones sent recently that a lost connection may not have delivered. Carbon never acknowledges
// anything, so a message stays "unconfirmed" for `resendWindow` after it was FIRST sent; when the
// connection is lost, those are sent again. Time comes from `now`, so tests run it on a manual clock.

import { Fifo } from '../../core/fifo.js';

/** One carbon message (a pickle frame, or plaintext lines) and its delivery history. */
export interface Message {
  readonly bytes: Buffer;
  /** Datapoints in it. */
  readonly count: number;
  /**
   * When it was first written to a connection (ms); 0 until then. A resend keeps it, so a message
   * resent on connection after connection still leaves the window (issue 17: a connection reset
   * every few hundred KB must not keep old messages alive and starve new ones).
   */
  sentAt: number;
  /** How many times it was written to a connection. */
  sends: number;
  /** The current connection's kernel has taken every byte of it. */
  handed: boolean;
  /** Called once it counts as delivered (it left the resend window, or carbon confirmed all). */
  readonly delivered?: () => void;
}

export interface SendQueueOptions {
  /** How long a message sent is kept to be sent again if its connection is lost (ms); 0: never. */
  resendWindowMs: number;
  /** A message is written to at most this many connections. */
  maxSends: number;
  /** Unconfirmed datapoints kept at most; beyond, the oldest the kernel took are forgotten. */
  maxUnconfirmedPoints: number;
  now: () => number;
}

export class SendQueue {
  private readonly opts: SendQueueOptions;
  /** Never sent, oldest first. */
  private readonly waiting = new Fifo<Message>();
  /** Sent on a connection that was lost and due again, oldest first. */
  private resend = new Fifo<Message>();
  /** Written to the current connection, in the order written. */
  private unconfirmed: Message[] = [];
  /** When both lists have messages, they take turns so neither starves. */
  private resendTurn = true;
  private waitingCount = 0;
  private resendCount = 0;
  private unconfirmedCount = 0;
  /** Datapoints sent again after a lost connection. */
  resent = 0;
  /** Datapoints no longer sent again after `maxSends` writes on connections that were lost (most were delivered). */
  givenUp = 0;

  constructor(opts: SendQueueOptions) {
    this.opts = opts;
  }

  /** Datapoints not yet written to the current connection (new and due again). */
  get pendingPoints(): number {
    return this.waitingCount + this.resendCount;
  }

  /** Datapoints written to the current connection that a loss would send again. */
  get unconfirmedPoints(): number {
    return this.unconfirmedCount;
  }

  add(bytes: Buffer, count: number, delivered?: () => void): void {
    this.waiting.push({ bytes, count, sentAt: 0, sends: 0, handed: false, delivered });
    this.waitingCount += count;
  }

  /** The next message to write, now counted as written to the current connection. */
  next(): Message | undefined {
    const both = this.resend.length > 0 && this.waiting.length > 0;
    const fromResend = both ? this.resendTurn : this.resend.length > 0;
    if (both) this.resendTurn = !this.resendTurn;
    const m = fromResend ? this.resend.shift() : this.waiting.shift();
    if (!m) return undefined;
    if (fromResend) {
      this.resendCount -= m.count;
      this.resent += m.count;
    } else {
      this.waitingCount -= m.count;
    }
    if (m.sentAt === 0) m.sentAt = this.opts.now();
    m.sends++;
    m.handed = false;
    this.unconfirmed.push(m);
    this.unconfirmedCount += m.count;
    return m;
  }

  /** The kernel took every byte of `m`: once it leaves the window it counts as delivered. */
  handed(m: Message): void {
    m.handed = true;
  }

  /**
   * Forgets messages the kernel took more than `resendWindow` ago (by their first send), and the
   * oldest taken ones beyond `maxUnconfirmedPoints`. A message the kernel has not taken stays.
   */
  prune(): void {
    const horizon = this.opts.now() - this.opts.resendWindowMs;
    const kept: Message[] = [];
    let count = 0;
    for (const m of this.unconfirmed) {
      if (m.handed && m.sentAt <= horizon) {
        m.delivered?.();
        continue;
      }
      kept.push(m);
      count += m.count;
    }
    let i = 0;
    while (count > this.opts.maxUnconfirmedPoints && i < kept.length) {
      const m = kept[i]!;
      if (m.handed) {
        kept.splice(i, 1);
        count -= m.count;
        m.delivered?.();
      } else {
        i++;
      }
    }
    this.unconfirmed = kept;
    this.unconfirmedCount = count;
  }

  /**
   * The connection is gone and nothing says what carbon read of it: what it may not have
   * delivered is due again, before what was already due, the last written first (the tail of a
   * connection is what a reset loses). Returns the datapoints due again.
   */
  lost(): number {
    this.prune();
    const again = new Fifo<Message>();
    let count = 0;
    for (let i = this.unconfirmed.length - 1; i >= 0; i--) {
      const m = this.unconfirmed[i]!;
      if (m.sends >= this.opts.maxSends) {
        this.givenUp += m.count;
        m.delivered?.();
        continue;
      }
      again.push(m);
      count += m.count;
    }
    for (let m = this.resend.shift(); m; m = this.resend.shift()) again.push(m);
    this.resend = again;
    this.resendCount += count;
    this.unconfirmed = [];
    this.unconfirmedCount = 0;
    this.resendTurn = true;
    return count;
  }

  /** Carbon confirmed all it was sent (it closed its side after our FIN). */
  confirmAll(): void {
    for (const m of this.unconfirmed) m.delivered?.();
    this.unconfirmed = [];
    this.unconfirmedCount = 0;
  }

  /** Empties the queue; returns the datapoints never written and those written but unconfirmed. */
  clear(): { pending: number; unconfirmed: number } {
    const out = { pending: this.pendingPoints, unconfirmed: this.unconfirmedCount };
    this.waiting.clear();
    this.resend.clear();
    this.unconfirmed = [];
    this.waitingCount = this.resendCount = this.unconfirmedCount = 0;
    return out;
  }
}
