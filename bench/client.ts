/**
 * The benchmark's client side: npm:ws sockets that speak the typed wire
 * format (`chat.v1`), come from spread loopback source addresses, and are
 * admitted once their `presence` frame arrives; plus the deadlines every
 * wait in bench/ goes through. npm:ws costs less per delivery than Deno's
 * built-in WebSocket and adds no latency tail of its own, so the client
 * does not hide the server.
 *
 * @module
 */

import WebSocket from "ws";

export { WebSocket };

/** The subprotocol of the typed frames (see docs/protocol.md). */
export const CHAT_PROTOCOL = "chat.v1";

/**
 * Loopback addresses the client sockets come from, in turn: spreading them
 * keeps each address far from the per-address limits and from running out
 * of ephemeral ports (every bound socket takes one of ~28 000 per address).
 */
const SOURCE_ADDRESSES = 100;

/** The source address of client number `index`: 127.0.0.2, .3, … */
export function sourceAddress(index: number): string {
  return `127.0.0.${2 + (index % SOURCE_ADDRESSES)}`;
}

import { DeadlineError, within } from "../platform/deadline.ts";

export { DeadlineError, within };

/** Sleeps `ms` (a pause on purpose: pacing, settling). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A frame from the server, as far as the benchmark reads it. */
export interface ServerFrame {
  readonly type: string;
  /** `message` frames: the text as sent. */
  readonly message?: string;
  /** `message` frames of the chat server: the room's id. */
  readonly id?: number;
  /** `history` frames: the messages, and whether `since=` was met. */
  readonly messages?: readonly ServerFrame[];
  readonly recovered?: boolean;
}

function isServerFrame(value: unknown): value is ServerFrame {
  return typeof value === "object" && value !== null && "type" in value &&
    typeof value.type === "string";
}

/** Parses one text frame; undefined when it is not a typed frame. */
export function parseFrame(text: string): ServerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  return isServerFrame(value) ? value : undefined;
}

/** Options for {@linkcode connect}. */
export interface ConnectOptions {
  /** The loopback address to connect from. @default chosen by the kernel */
  readonly localAddress?: string;
  /** Called with every frame, from the first (`history`) on. */
  readonly onFrame?: (frame: ServerFrame) => void;
  /** Called when the socket closes, after it was admitted or not. */
  readonly onClose?: (code: number) => void;
  /** How long admission may take. @default 30000 */
  readonly timeoutMs?: number;
}

/**
 * Opens a typed socket to `url` and resolves once the server has admitted
 * it to its room (its `presence` frame arrived); rejects on a refusal, a
 * close or the timeout, and then leaves no socket open.
 */
export async function connect(
  url: string,
  options: ConnectOptions = {},
): Promise<WebSocket> {
  const socket = new WebSocket(url, [CHAT_PROTOCOL], {
    perMessageDeflate: false,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  const admitted = Promise.withResolvers<void>();
  socket.on("unexpected-response", (_request, response) => {
    admitted.reject(new Error(`${url}: refused with ${response.statusCode}`));
    response.resume();
    socket.terminate();
  });
  let admittedYet = false;
  socket.on("message", (data, isBinary) => {
    // A member that only holds its place reads nothing after admission:
    // parsing every presence frame of a big room is CPU taken from the
    // server it measures, on the same cores.
    if (isBinary || (admittedYet && !options.onFrame)) return;
    const frame = parseFrame(data.toString());
    if (!frame) return;
    if (frame.type === "presence") {
      admittedYet = true;
      admitted.resolve();
    }
    options.onFrame?.(frame);
  });
  socket.on("error", (error) => admitted.reject(error));
  socket.on("close", (code) => {
    admitted.reject(new Error(`${url}: closed (${code}) before admission`));
    options.onClose?.(code);
  });
  try {
    await within(admitted.promise, options.timeoutMs ?? 30_000, url);
  } catch (error) {
    socket.terminate();
    throw error;
  }
  return socket;
}

/**
 * Runs `open(i)` for i in [0, count), at most `concurrency` at a time (so
 * that a crowd does not overflow the server's accept backlog), and returns
 * what succeeded and how many failed, in index order.
 */
export async function openMany<T>(
  count: number,
  concurrency: number,
  open: (index: number) => Promise<T>,
): Promise<{ opened: (T | undefined)[]; failures: number; errors: string[] }> {
  const opened: (T | undefined)[] = new Array(count);
  const errors: string[] = [];
  let failures = 0;
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const index = next++;
      try {
        opened[index] = await open(index);
      } catch (error) {
        failures += 1;
        if (errors.length < 5) errors.push(String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { opened, failures, errors };
}

/**
 * Closes every socket and waits (at most `timeoutMs`) for the closes;
 * sockets still open then are terminated.
 */
export async function closeAll(
  sockets: Iterable<WebSocket | undefined>,
  timeoutMs = 5000,
): Promise<void> {
  const waits: Promise<void>[] = [];
  const open: WebSocket[] = [];
  for (const socket of sockets) {
    if (!socket || socket.readyState === WebSocket.CLOSED) continue;
    open.push(socket);
    waits.push(new Promise((resolve) => socket.once("close", () => resolve())));
    socket.close(1000);
  }
  try {
    await within(Promise.all(waits), timeoutMs, "closing sockets");
  } catch (error) {
    // Past the deadline, whatever did not finish its handshake is cut.
    if (!(error instanceof DeadlineError)) throw error;
  } finally {
    for (const socket of open) socket.terminate();
  }
}
