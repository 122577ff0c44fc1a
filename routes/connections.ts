/**
 * The open WebSockets of this isolate: counted per client IP and in total
 * (refused before the upgrade when over a limit), and closed together on
 * shutdown. The one owner of that state; entries go when their count is 0.
 *
 * @module
 */

import type { RefuseReason } from "../chat/metrics.ts";

/** Limits, per isolate. */
export interface ConnectionLimits {
  readonly maxPerIp: number;
  readonly maxTotal: number;
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

/** Tracks and limits the sockets of one isolate. */
export class ConnectionTracker {
  readonly #limits: ConnectionLimits;
  readonly #perIp = new Map<string, number>();
  readonly #sockets = new Set<WebSocket>();
  #reserved = 0;
  #closing = false;

  constructor(limits: ConnectionLimits) {
    this.#limits = limits;
  }

  /** Open or reserved connections. */
  get size(): number {
    return this.#reserved;
  }

  /** Reserves a place for a connection from `ip`, or says why not. */
  reserve(ip: string): Reservation {
    if (this.#closing) {
      return {
        ok: false,
        reason: "shutting_down",
        status: 503,
        message: "The server is shutting down",
      };
    }
    if (this.#reserved >= this.#limits.maxTotal) {
      return {
        ok: false,
        reason: "total",
        status: 503,
        message:
          `The server is at its limit of ${this.#limits.maxTotal} connections; try again later`,
      };
    }
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (fromIp >= this.#limits.maxPerIp) {
      return {
        ok: false,
        reason: "per_ip",
        status: 429,
        message:
          `Too many connections from your address (limit ${this.#limits.maxPerIp})`,
      };
    }
    this.#perIp.set(ip, fromIp + 1);
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
          const left = (this.#perIp.get(ip) ?? 1) - 1;
          if (left > 0) this.#perIp.set(ip, left);
          else this.#perIp.delete(ip);
          if (socket) this.#sockets.delete(socket);
        },
      },
    };
  }

  /** Refuses new connections and closes every open one with `code`. */
  closeAll(code: number, reason: string): void {
    this.#closing = true;
    for (const socket of this.#sockets) {
      if (
        socket.readyState === WebSocket.OPEN ||
        socket.readyState === WebSocket.CONNECTING
      ) {
        socket.close(code, reason);
      }
    }
  }
}
