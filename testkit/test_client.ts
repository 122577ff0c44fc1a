/**
 * A WebSocket client for tests that records every frame it receives and
 * lets a test await frames by type or by condition, in arrival order.
 *
 * @module
 */

import { CHAT_PROTOCOL } from "../chat/frames.ts";

/** A parsed server frame. */
export type Frame = Record<string, unknown> & { type: string };

function isFrame(value: unknown): value is Frame {
  return typeof value === "object" && value !== null && "type" in value &&
    typeof value.type === "string";
}

/** A `presence_change` frame as its `join` and `leave` frames. */
function expandPresenceChange(frame: unknown): unknown[] {
  if (
    !isFrame(frame) || frame.type !== "presence_change" ||
    !Array.isArray(frame.joined) || !Array.isArray(frame.left)
  ) return [frame];
  return [
    ...frame.joined.map((user: unknown) => ({ type: "join", user })),
    ...frame.left.map((user: unknown) => ({ type: "leave", user })),
  ];
}

/** A WebSocket client that records every frame it receives. */
export class TestClient implements AsyncDisposable {
  readonly socket: WebSocket;
  /**
   * Every frame received, except that a `presence_change` frame (several
   * joins and leaves of one window) stands here as the `join` and `leave`
   * frames it gathers, so that tests can follow people one by one.
   */
  readonly frames: unknown[] = [];
  /** Every frame exactly as received. */
  readonly rawFrames: unknown[] = [];
  readonly closed: Promise<CloseEvent>;
  /** How the socket closed, once it has: said when a wait gives up. */
  #closedAs: string | undefined;
  #waiters: (() => void)[] = [];

  private constructor(socket: WebSocket) {
    this.socket = socket;
    const closed = Promise.withResolvers<CloseEvent>();
    this.closed = closed.promise;
    socket.onmessage = (event: MessageEvent<unknown>) => {
      const frame: unknown = typeof event.data === "string"
        ? JSON.parse(event.data)
        : event.data;
      this.rawFrames.push(frame);
      this.frames.push(...expandPresenceChange(frame));
      for (const wake of this.#waiters.splice(0)) wake();
    };
    socket.onclose = (event) => {
      this.#closedAs = `closed with ${event.code}${
        event.reason ? ` (${event.reason})` : ""
      }`;
      closed.resolve(event);
      for (const wake of this.#waiters.splice(0)) wake();
    };
  }

  /**
   * Opens a socket and waits until it is open. It offers the typed
   * protocol unless `protocols` says otherwise (`[]`: a tutorial client).
   */
  static async connect(
    url: string,
    protocols: string[] = [CHAT_PROTOCOL],
  ): Promise<TestClient> {
    const socket = new WebSocket(url, protocols);
    const client = new TestClient(socket);
    const opened = Promise.withResolvers<void>();
    socket.onopen = () => opened.resolve();
    socket.onerror = (event) =>
      opened.reject(
        new Error(
          `Cannot connect to ${url}: ${
            event instanceof ErrorEvent ? event.message : "error"
          }`,
        ),
      );
    await opened.promise;
    return client;
  }

  /**
   * Opens a socket and waits for its presence frame, after which the
   * server delivers live messages to it.
   */
  static async join(url: string): Promise<TestClient> {
    const client = await TestClient.connect(url);
    await client.waitForType("presence", 1);
    return client;
  }

  /** Frames of one `type`, in arrival order. */
  ofType(type: string): Frame[] {
    return this.frames.filter(isFrame).filter((frame) => frame.type === type);
  }

  /** Waits until `count` frames of `type` have arrived; returns them. */
  waitForType(type: string, count: number, timeoutMs = 5000): Promise<Frame[]> {
    return this.waitForMatching(
      (frame) => frame.type === type,
      count,
      timeoutMs,
      `${type} frames`,
    );
  }

  /** Waits until `count` frames satisfy `accept`; returns those frames. */
  async waitForMatching(
    accept: (frame: Frame) => boolean,
    count: number,
    timeoutMs = 5000,
    what = "matching frames",
  ): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    const matching = () => this.frames.filter(isFrame).filter(accept);
    while (matching().length < count) {
      const left = deadline - Date.now();
      if (left <= 0 || this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(
          `Expected ${count} ${what}, got ${matching().length}${
            this.#closedAs ? `; the socket ${this.#closedAs}` : ""
          }: ${JSON.stringify(this.frames).slice(0, 500)}`,
        );
      }
      await this.#wake(left);
    }
    return matching();
  }

  /** Texts of the live message frames received so far. */
  messageTexts(): string[] {
    return this.ofType("message").map((frame) => String(frame.message));
  }

  async #wake(timeoutMs: number): Promise<void> {
    const woken = Promise.withResolvers<void>();
    this.#waiters.push(woken.resolve);
    const timer = setTimeout(woken.resolve, timeoutMs);
    await woken.promise;
    clearTimeout(timer);
  }

  /** Sends a value as JSON, or a string as it is. */
  send(value: unknown): void {
    this.socket.send(typeof value === "string" ? value : JSON.stringify(value));
  }

  /** Waits until at least `count` frames have arrived; returns them all. */
  async waitForFrames(count: number, timeoutMs = 5000): Promise<unknown[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count) {
      const left = deadline - Date.now();
      if (left <= 0 || this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(
          `Expected ${count} frames, got ${this.frames.length}: ${
            JSON.stringify(this.frames).slice(0, 500)
          }`,
        );
      }
      await this.#wake(left);
    }
    return this.frames;
  }

  /** Waits for the next frame after the `index`-th one. */
  async frame(index: number, timeoutMs = 5000): Promise<unknown> {
    const frames = await this.waitForFrames(index + 1, timeoutMs);
    return frames[index];
  }

  /** Closes the socket and waits for the close to complete. */
  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close();
    await this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
