/**
 * A WebSocket client at the frame level, for what a browser never does:
 * write many frames in one TCP write, and see exactly which frames the
 * server sent, in order, up to its close frame (or learn that the
 * connection ended without one, which a browser reports as 1006).
 *
 * @module
 */

import { ClosedAtDeadline, closingAfter } from "./conn_deadline.ts";
import { frameHeader, upgradeRequest } from "./raw_socket.ts";

/** One frame from the server (servers never mask). */
export interface ServerFrame {
  readonly opcode: number;
  readonly payload: Uint8Array;
}

/** What a server sent up to its close frame. */
export interface ClosedWith {
  readonly code: number;
  readonly reason: string;
  /** The text frames before the close frame, in order. */
  readonly texts: readonly string[];
}

/**
 * The bytes of one masked text frame per item of `texts`, back to back, as
 * a client must send them: written at once, they reach the server together.
 */
export function maskedTextFrames(texts: readonly string[]): Uint8Array {
  const encoder = new TextEncoder();
  const frames = texts.map((text) => {
    const payload = encoder.encode(text);
    if (payload.length > 0xffff) throw new RangeError("Frame too long");
    const header = payload.length < 126
      ? [0x81, 0x80 | payload.length]
      : [0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff];
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const frame = new Uint8Array(header.length + 4 + payload.length);
    frame.set(header);
    frame.set(mask, header.length);
    for (let index = 0; index < payload.length; index++) {
      frame[header.length + 4 + index] = (payload[index] ?? 0) ^
        (mask[index % 4] ?? 0);
    }
    return frame;
  });
  const bytes = new Uint8Array(frames.reduce((sum, f) => sum + f.length, 0));
  let offset = 0;
  for (const frame of frames) {
    bytes.set(frame, offset);
    offset += frame.length;
  }
  return bytes;
}

/** An upgraded connection read frame by frame. */
export class RawFrameSocket implements AsyncDisposable {
  readonly conn: Deno.TcpConn;
  #pending: Uint8Array<ArrayBuffer>;
  #closed = false;

  private constructor(conn: Deno.TcpConn, pending: Uint8Array<ArrayBuffer>) {
    this.conn = conn;
    this.#pending = pending;
  }

  /**
   * Opens `path` on 127.0.0.1:`port` with `headers` besides the upgrade's;
   * fails unless the server answers 101.
   */
  static async open(
    port: number,
    path: string,
    headers: Record<string, string> = {},
  ): Promise<RawFrameSocket> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(upgradeRequest(port, path, headers));
    let bytes = new Uint8Array(0);
    const chunk = new Uint8Array(4096);
    for (;;) {
      const end = headEnd(bytes);
      if (end !== undefined) {
        const head = new TextDecoder().decode(bytes.subarray(0, end));
        if (!head.startsWith("HTTP/1.1 101")) {
          conn.close();
          throw new Error(`Upgrade refused: ${head.split("\r\n")[0]}`);
        }
        // Frames that came with the head are the first frames.
        return new RawFrameSocket(conn, bytes.slice(end));
      }
      const read = await conn.read(chunk);
      if (read === null) {
        conn.close();
        throw new Error("The server closed before answering the upgrade");
      }
      bytes = concat(bytes, chunk.subarray(0, read));
    }
  }

  /** Writes `bytes` in one write call. */
  async write(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      written += await this.conn.write(bytes.subarray(written));
    }
  }

  /** The next frame; fails if the connection ends first. */
  async next(): Promise<ServerFrame> {
    const chunk = new Uint8Array(64 * 1024);
    for (;;) {
      const frame = takeFrame(this.#pending);
      if (frame) {
        this.#pending = this.#pending.slice(frame.end);
        return { opcode: frame.opcode, payload: frame.payload };
      }
      const read = await this.conn.read(chunk);
      if (read === null) {
        throw new Error(
          "The server ended the connection without a close frame",
        );
      }
      this.#pending = concat(this.#pending, chunk.subarray(0, read));
    }
  }

  /** Text frames until one that `matches`, which is the last returned. */
  async textsUntil(matches: (text: string) => boolean): Promise<string[]> {
    const texts: string[] = [];
    for (;;) {
      const { opcode, payload } = await this.next();
      if (opcode === 0x8) throw new Error("Closed before the awaited frame");
      if (opcode !== 0x1) continue;
      const text = new TextDecoder().decode(payload);
      texts.push(text);
      if (matches(text)) return texts;
    }
  }

  /**
   * Every text frame up to the server's close frame, and that frame's code
   * and reason. Fails if the connection ends without one, or after
   * `timeoutMs` (closing the connection).
   */
  async untilClose(timeoutMs = 10_000): Promise<ClosedWith> {
    const texts: string[] = [];
    try {
      return await closingAfter(
        { ms: timeoutMs, close: () => this.#close(), what: "No close frame" },
        async () => {
          for (;;) {
            const { opcode, payload } = await this.next();
            if (opcode === 0x1) texts.push(new TextDecoder().decode(payload));
            if (opcode === 0x8) {
              return {
                code: ((payload[0] ?? 0) << 8) | (payload[1] ?? 0),
                reason: new TextDecoder().decode(payload.subarray(2)),
                texts,
              };
            }
          }
        },
      );
    } catch (error) {
      if (error instanceof ClosedAtDeadline) throw error;
      throw new Error(
        `${
          error instanceof Error ? error.message : String(error)
        } (after ${texts.length} text frames)`,
        { cause: error },
      );
    }
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.conn.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.#close();
    return Promise.resolve();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/** Where the HTTP head of `bytes` ends (after its blank line), if it does. */
function headEnd(bytes: Uint8Array): number | undefined {
  for (let index = 3; index < bytes.length; index++) {
    if (
      bytes[index - 3] === 13 && bytes[index - 2] === 10 &&
      bytes[index - 1] === 13 && bytes[index] === 10
    ) return index + 1;
  }
  return undefined;
}

/** The first whole frame of `bytes`, if there is one. */
function takeFrame(
  bytes: Uint8Array,
): { opcode: number; payload: Uint8Array; end: number } | undefined {
  const header = frameHeader(bytes);
  if (!header) return undefined;
  const end = header.headerLength + header.payloadLength;
  if (bytes.length < end) return undefined;
  return {
    opcode: header.opcode,
    payload: bytes.subarray(header.headerLength, end),
    end,
  };
}
