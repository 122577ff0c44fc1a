/**
 * Clients at the TCP level, for what a well-behaved client never sends: a
 * WebSocket that completes the handshake and then never reads again (the
 * slow or stuck client a server must survive), and raw bytes or request
 * lines that `fetch` would refuse or normalise.
 *
 * @module
 */

import { closingAfter } from "./conn_deadline.ts";

/** An upgraded TCP connection that nobody reads from. */
export interface SilentSocket extends AsyncDisposable {
  readonly conn: Deno.TcpConn;
  /**
   * Reads again: drops every frame the server queued, up to its close
   * frame, and returns that. Fails if the connection ends first, or after
   * `timeoutMs` (closing it). @default timeoutMs 10000
   */
  readUntilClose(timeoutMs?: number): Promise<CloseFrame>;
}

/**
 * The bytes of a WebSocket upgrade request for `path` on 127.0.0.1:`port`,
 * with `headers` besides the upgrade's own.
 */
export function upgradeRequest(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Uint8Array {
  const key = btoa(
    String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))),
  );
  return new TextEncoder().encode(
    [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${key}`,
      "Sec-WebSocket-Version: 13",
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      "",
      "",
    ].join("\r\n"),
  );
}

/** Opens `path` on 127.0.0.1:`port` as a WebSocket, then stops reading. */
export async function openSilentSocket(
  port: number,
  path: string,
): Promise<SilentSocket> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(upgradeRequest(port, path));
  // Read only the response head (the server sends nothing else until the
  // client is admitted, and the head fits in one small read).
  const head = new Uint8Array(1024);
  const read = await conn.read(head);
  const text = new TextDecoder().decode(head.subarray(0, read ?? 0));
  if (!text.startsWith("HTTP/1.1 101")) {
    conn.close();
    throw new Error(`Upgrade refused: ${text.split("\r\n")[0]}`);
  }
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      conn.close();
    }
  };
  return {
    conn,
    readUntilClose: (timeoutMs = 10_000) =>
      readUntilClose(conn, close, timeoutMs),
    [Symbol.asyncDispose]() {
      close();
      return Promise.resolve();
    },
  };
}

/** A server's close frame: its code and reason. */
export interface CloseFrame {
  readonly code: number;
  readonly reason: string;
}

/** A WebSocket frame header from the server (unmasked), if complete. */
export function frameHeader(
  bytes: Uint8Array,
): { opcode: number; headerLength: number; payloadLength: number } | undefined {
  if (bytes.length < 2) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const opcode = view.getUint8(0) & 0x0f;
  const length = view.getUint8(1) & 0x7f;
  if (length < 126) return { opcode, headerLength: 2, payloadLength: length };
  if (length === 126) {
    if (bytes.length < 4) return undefined;
    return { opcode, headerLength: 4, payloadLength: view.getUint16(2) };
  }
  if (bytes.length < 10) return undefined;
  return {
    opcode,
    headerLength: 10,
    payloadLength: Number(view.getBigUint64(2)),
  };
}

/** {@linkcode SilentSocket.readUntilClose}, with `close` to give up. */
function readUntilClose(
  conn: Deno.Conn,
  close: () => void,
  timeoutMs: number,
): Promise<CloseFrame> {
  return closingAfter(
    { ms: timeoutMs, close, what: "No close frame" },
    () => closeFrameOf(conn),
  );
}

/** Reads `conn` up to the server's close frame, dropping other frames. */
async function closeFrameOf(conn: Deno.Conn): Promise<CloseFrame> {
  const chunk = new Uint8Array(64 * 1024);
  // Bytes of a frame not complete yet, and how much of a frame being
  // dropped is still to come.
  let pending = new Uint8Array(0);
  let skip = 0;
  while (true) {
    const read = await conn.read(chunk);
    if (read === null) {
      throw new Error(
        "The server ended the connection without a close frame",
      );
    }
    let data = chunk.subarray(0, read);
    const skipped = Math.min(skip, data.length);
    skip -= skipped;
    data = data.subarray(skipped);
    const joined = new Uint8Array(pending.length + data.length);
    joined.set(pending);
    joined.set(data, pending.length);
    pending = joined;
    let header = frameHeader(pending);
    while (header) {
      const end = header.headerLength + header.payloadLength;
      if (header.opcode === 0x8) {
        if (pending.length < end) break;
        const payload = pending.subarray(header.headerLength, end);
        return {
          code: ((payload[0] ?? 0) << 8) | (payload[1] ?? 0),
          reason: new TextDecoder().decode(payload.subarray(2)),
        };
      }
      if (pending.length < end) {
        skip = end - pending.length;
        pending = new Uint8Array(0);
        break;
      }
      pending = pending.slice(end);
      header = frameHeader(pending);
    }
  }
}

/** The head of an HTTP answer: its status and its headers. */
export interface ResponseHead {
  readonly status: number;
  readonly headers: Headers;
}

/**
 * Writes `bytes` to 127.0.0.1:`port`, ends the writing side, and returns the
 * head of the answer, or `undefined` when the server closed without one.
 * Reads only the head (a 101 would otherwise keep the connection open) and
 * gives up after `timeoutMs`.
 */
export async function rawHead(
  port: number,
  bytes: Uint8Array,
  timeoutMs = 3000,
): Promise<ResponseHead | undefined> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let closed = false;
  const close = () => {
    closed = true;
    conn.close();
  };
  let head = "";
  try {
    await closingAfter(
      { ms: timeoutMs, close, what: "No answer from the server" },
      async () => {
        await conn.write(bytes);
        await conn.closeWrite();
        const decoder = new TextDecoder();
        const chunk = new Uint8Array(4096);
        while (!head.includes("\r\n\r\n")) {
          const read = await conn.read(chunk);
          if (read === null) break;
          head += decoder.decode(chunk.subarray(0, read), { stream: true });
        }
      },
    );
  } catch (error) {
    // The server may reset a connection that sent garbage: no answer.
    if (
      !(error instanceof Deno.errors.ConnectionReset ||
        error instanceof Deno.errors.BrokenPipe)
    ) throw error;
  } finally {
    if (!closed) close();
  }
  const [statusLine = "", ...lines] = head.split("\r\n\r\n")[0]?.split(
    "\r\n",
  ) ?? [];
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!match) return undefined;
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) {
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
  }
  return { status: Number(match[1]), headers };
}

/**
 * Writes `bytes` to 127.0.0.1:`port`, ends the writing side, and returns the
 * HTTP status of the answer, or `undefined` when the server closed without
 * one; see {@linkcode rawHead}.
 */
export async function rawStatus(
  port: number,
  bytes: Uint8Array,
  timeoutMs = 3000,
): Promise<number | undefined> {
  return (await rawHead(port, bytes, timeoutMs))?.status;
}

/** An HTTP/1.1 answer read off a raw connection. */
export interface RawAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * One HTTP/1.1 connection kept open for request after request, as a
 * Prometheus scraper keeps one: opened while the server can accept it, it
 * still reaches the server when the server can accept no other.
 */
export interface KeepAliveConnection extends Disposable {
  /** GETs `path` and reads the whole answer; fails after `timeoutMs`. */
  get(path: string, timeoutMs?: number): Promise<RawAnswer>;
}

/** Opens a {@linkcode KeepAliveConnection} to 127.0.0.1:`port`. */
export async function openKeepAlive(
  port: number,
): Promise<KeepAliveConnection> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const decoder = new TextDecoder();
  const chunk = new Uint8Array(64 * 1024);
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      conn.close();
    }
  };
  /** Bytes read past the last answer; none, as requests are not pipelined. */
  let text = "";
  const readMore = async () => {
    const read = await conn.read(chunk);
    if (read === null) {
      throw new Error("The server closed the kept-alive connection");
    }
    text += decoder.decode(chunk.subarray(0, read), { stream: true });
  };
  const readAnswer = async (): Promise<RawAnswer> => {
    while (!text.includes("\r\n\r\n")) await readMore();
    const headEnd = text.indexOf("\r\n\r\n");
    const head = text.slice(0, headEnd);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
    const length = /^content-length: *(\d+)/im.exec(head)?.[1];
    let rest = text.slice(headEnd + 4);
    text = "";
    if (length !== undefined) {
      // Answers here are ASCII, so characters count as bytes.
      while (rest.length < Number(length)) {
        await readMore();
        rest += text;
        text = "";
      }
      return { status, body: rest.slice(0, Number(length)) };
    }
    if (!/^transfer-encoding: *chunked/im.test(head)) {
      throw new Error(`An answer without a length: ${head}`);
    }
    let body = "";
    while (true) {
      while (!rest.includes("\r\n")) {
        await readMore();
        rest += text;
        text = "";
      }
      const size = parseInt(rest.slice(0, rest.indexOf("\r\n")), 16);
      const start = rest.indexOf("\r\n") + 2;
      while (rest.length < start + size + 2) {
        await readMore();
        rest += text;
        text = "";
      }
      if (size === 0) return { status, body };
      body += rest.slice(start, start + size);
      rest = rest.slice(start + size + 2);
    }
  };
  return {
    get(path, timeoutMs = 5000) {
      return closingAfter(
        { ms: timeoutMs, close, what: `No answer to GET ${path}` },
        async () => {
          await conn.write(
            new TextEncoder().encode(
              `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`,
            ),
          );
          return await readAnswer();
        },
      );
    },
    [Symbol.dispose]: close,
  };
}
