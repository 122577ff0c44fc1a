/**
 * The open WebSockets of this isolate, and the limits on them. Counting is
 * behind {@linkcode ConnectionLimiter}: an isolate alone counts for itself
 * ({@linkcode CountingLimiter}); the workers of one process ask the main
 * thread, which counts for the whole process. The tracker owns this
 * isolate's sockets and closes them together on shutdown; every count it
 * takes it gives back exactly once.
 *
 * @module
 */

import type { RefuseReason } from "../chat/metrics.ts";
import { KeyedBuckets } from "../chat/rate_limit.ts";

/** Limits on open sockets. */
export interface ConnectionLimits {
  readonly maxPerIp: number;
  readonly maxTotal: number;
  /**
   * New sockets per second per address (0: no limit) and the burst before
   * the rate applies. @default no limit
   */
  readonly connectRate?: { readonly rate: number; readonly burst: number };
}

/** Why a connection was refused, as the client is told. */
export interface Refusal {
  readonly reason: Exclude<RefuseReason, "origin" | "shutting_down">;
  readonly status: 429 | 503;
  readonly message: string;
}

/** Counts connections against {@linkcode ConnectionLimits}. */
export interface ConnectionLimiter {
  /** Takes a place for a connection from `ip`, or says why not. */
  acquire(ip: string): Promise<Refusal | undefined>;
  /** Gives back a place taken by `acquire`. */
  release(ip: string): void;
}

/**
 * The limiter of one owner (an isolate, or the main thread for all its
 * workers): plain counts, emptied as places are given back, and the
 * connect rate per address.
 */
export class CountingLimiter implements ConnectionLimiter {
  readonly #limits: ConnectionLimits;
  readonly #perIp = new Map<string, number>();
  readonly #connects: KeyedBuckets;
  #total = 0;

  constructor(limits: ConnectionLimits) {
    this.#limits = limits;
    this.#connects = new KeyedBuckets(
      limits.connectRate ?? { rate: 0, burst: 1 },
    );
  }

  /** Places taken. */
  get total(): number {
    return this.#total;
  }

  /** The synchronous form of {@linkcode acquire}. */
  tryAcquire(ip: string): Refusal | undefined {
    if (this.#total >= this.#limits.maxTotal) {
      return {
        reason: "total",
        status: 503,
        message:
          `The server is at its limit of ${this.#limits.maxTotal} connections; try again later`,
      };
    }
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (fromIp >= this.#limits.maxPerIp) {
      return {
        reason: "per_ip",
        status: 429,
        message:
          `Too many connections from your address (limit ${this.#limits.maxPerIp})`,
      };
    }
    // Each socket is a join and a leave for its room: opening them in a
    // loop is held to the connect rate.
    if (!this.#connects.take(ip)) {
      const { rate = 0, burst = 0 } = this.#limits.connectRate ?? {};
      return {
        reason: "connect_rate",
        status: 429,
        message:
          `Too many new connections from your address: at most ${rate} per second (bursts of ${burst}); try again in a moment`,
      };
    }
    this.#perIp.set(ip, fromIp + 1);
    this.#total += 1;
    return undefined;
  }

  acquire(ip: string): Promise<Refusal | undefined> {
    return Promise.resolve(this.tryAcquire(ip));
  }

  release(ip: string): void {
    const held = this.#perIp.get(ip);
    if (held === undefined) return;
    this.#total -= 1;
    if (held > 1) this.#perIp.set(ip, held - 1);
    else this.#perIp.delete(ip);
  }
}

/** A reserved place for one connection; `release` is idempotent. */
export interface ConnectionSlot {
  attach(socket: WebSocket): void;
  release(): void;
}

/** The answer to a reservation. */
export type Reservation =
  | { readonly ok: true; readonly slot: ConnectionSlot }
  | {
    readonly ok: false;
    readonly reason: RefuseReason;
    readonly status: 429 | 503;
    readonly message: string;
  };

const SHUTTING_DOWN: Reservation = {
  ok: false,
  reason: "shutting_down",
  status: 503,
  message: "The server is shutting down",
};

/** Tracks the sockets of one isolate, counted by a limiter. */
export class ConnectionTracker {
  readonly #limiter: ConnectionLimiter;
  readonly #sockets = new Set<WebSocket>();
  #reserved = 0;
  #closing = false;
  /** Settles when, closing, the last connection has been released. */
  readonly #drained = Promise.withResolvers<void>();

  constructor(limiter: ConnectionLimiter) {
    this.#limiter = limiter;
  }

  /** Open or reserved connections of this isolate. */
  get size(): number {
    return this.#reserved;
  }

  /** Reserves a place for a connection from `ip`, or says why not. */
  async reserve(ip: string): Promise<Reservation> {
    if (this.#closing) return SHUTTING_DOWN;
    const refusal = await this.#limiter.acquire(ip);
    if (refusal) return { ok: false, ...refusal };
    if (this.#closing) {
      this.#limiter.release(ip);
      return SHUTTING_DOWN;
    }
    this.#reserved += 1;
    let socket: WebSocket | undefined;
    let held = true;
    return {
      ok: true,
      slot: {
        attach: (opened) => {
          socket = opened;
          if (held) this.#sockets.add(opened);
        },
        release: () => {
          if (!held) return;
          held = false;
          this.#reserved -= 1;
          this.#limiter.release(ip);
          if (socket) this.#sockets.delete(socket);
          if (this.#closing && this.#reserved === 0) this.#drained.resolve();
        },
      },
    };
  }

  /**
   * Refuses new connections and closes every open one with `code`.
   * Resolves once every connection has closed (the peer answered the close
   * or the socket failed): only then have the close frames gone out.
   */
  closeAll(code: number, reason: string): Promise<void> {
    this.#closing = true;
    if (this.#reserved === 0) this.#drained.resolve();
    for (const socket of this.#sockets) {
      if (
        socket.readyState === WebSocket.OPEN ||
        socket.readyState === WebSocket.CONNECTING
      ) {
        socket.close(code, reason);
      }
    }
    return this.#drained.promise;
  }
}
