/**
 * The one test WebSocket collector: keeps the message frames a socket
 * receives (id, text, arrival time) and waits until enough have come, for
 * tests and benchmarks that count thousands of deliveries without keeping
 * every frame as `TestClient` (testkit/server.ts) does. {@linkcode MessageCollector}
 * takes text frames from any socket (npm `ws` sockets feed it by hand);
 * {@linkcode CollectingSocket} wires it to a browser-style `WebSocket`.
 *
 * @module
 */

import { CHAT_PROTOCOL } from "../chat/frames.ts";
import { DeadlineError, within } from "../platform/deadline.ts";

/** One `message` frame as a collector keeps it. */
export interface ReceivedMessage {
  /** The frame's `id`, when it had a numeric one. */
  readonly id: number | undefined;
  /** The frame's `message` text. */
  readonly text: string;
  /** `performance.now()` when it arrived. */
  readonly at: number;
}

/** What a collector does beside keeping the messages. */
export interface CollectorOptions {
  /** Called with each message as it arrives, e.g. to count across sockets. */
  readonly onMessage?: (message: ReceivedMessage) => void;
}

/** The `message` frames of one socket, and waits on their count. */
export class MessageCollector {
  /** Every `message` frame received, in arrival order. */
  readonly messages: ReceivedMessage[] = [];
  /**
   * Settles with the presence frame (from then on the server delivers
   * live messages), or fails when the socket closes before it.
   */
  readonly admitted: Promise<void>;
  readonly #admitted = Promise.withResolvers<void>();
  readonly #onMessage: ((message: ReceivedMessage) => void) | undefined;
  #waiters: { readonly count: number; readonly wake: () => void }[] = [];
  #closedAs: string | undefined;

  constructor(options: CollectorOptions = {}) {
    this.#onMessage = options.onMessage;
    this.admitted = this.#admitted.promise;
    // Awaited by whoever needs it; a socket closed unawaited is no error.
    this.admitted.catch(() => {});
  }

  /** The ids of the messages received, in arrival order. */
  get ids(): number[] {
    return this.messages.flatMap(({ id }) => id === undefined ? [] : [id]);
  }

  /** Takes a text frame as it came off the socket. */
  receive(text: string): void {
    const frame: unknown = JSON.parse(text);
    if (typeof frame !== "object" || frame === null || !("type" in frame)) {
      return;
    }
    if (frame.type === "presence") this.#admitted.resolve();
    if (
      frame.type !== "message" || !("message" in frame) ||
      typeof frame.message !== "string"
    ) return;
    const message = {
      id: "id" in frame && typeof frame.id === "number" ? frame.id : undefined,
      text: frame.message,
      at: performance.now(),
    };
    this.messages.push(message);
    this.#onMessage?.(message);
    if (this.#waiters.length > 0) this.#wake();
  }

  /** The socket closed, `how` (e.g. `"with 1006"`): waits end. */
  ended(how: string): void {
    this.#closedAs = how;
    this.#admitted.reject(new Error(`closed ${how} before its presence frame`));
    this.#wake();
  }

  /** Waits until `count` messages arrived; fails after `timeoutMs`. */
  async waitFor(count: number, timeoutMs: number): Promise<void> {
    if (this.messages.length >= count) return;
    const reached = Promise.withResolvers<void>();
    const waiter = { count, wake: reached.resolve };
    this.#waiters.push(waiter);
    if (this.#closedAs !== undefined) reached.resolve();
    try {
      await within(reached.promise, timeoutMs, `${count} messages`);
    } catch (error) {
      if (!(error instanceof DeadlineError)) throw error;
      throw new Error(
        `got ${this.messages.length} of ${count} messages in ${timeoutMs} ms`,
      );
    } finally {
      this.#waiters = this.#waiters.filter((other) => other !== waiter);
    }
    if (this.messages.length < count) {
      throw new Error(
        `closed ${this.#closedAs} after ${this.messages.length} of ${count} messages`,
      );
    }
  }

  #wake(): void {
    const received = this.messages.length;
    const closed = this.#closedAs !== undefined;
    for (const waiter of this.#waiters) {
      if (closed || waiter.count <= received) waiter.wake();
    }
  }
}

/** A typed-protocol `WebSocket` whose messages a collector keeps. */
export class CollectingSocket extends MessageCollector {
  readonly socket: WebSocket;
  readonly #closed = Promise.withResolvers<void>();

  constructor(url: string, options: CollectorOptions = {}) {
    super(options);
    this.socket = new WebSocket(url, [CHAT_PROTOCOL]);
    this.socket.onmessage = (event: MessageEvent<unknown>) => {
      if (typeof event.data === "string") this.receive(event.data);
    };
    this.socket.onclose = (event) => {
      this.ended(`with ${event.code}`);
      this.#closed.resolve();
    };
  }

  /** Sends a chat message. */
  send(message: string): void {
    this.socket.send(JSON.stringify({ message }));
  }

  /** Closes the socket and waits until it is closed. */
  async close(): Promise<void> {
    if (
      this.socket.readyState === WebSocket.CONNECTING ||
      this.socket.readyState === WebSocket.OPEN
    ) this.socket.close();
    await this.#closed.promise;
  }
}
