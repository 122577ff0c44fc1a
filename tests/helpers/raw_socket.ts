/**
 * Clients at the TCP level, for what a well-behaved client never sends: a
 * WebSocket that completes the handshake and then never reads again (the
 * slow or stuck client a server must survive), and raw bytes or request
 * lines that `fetch` would refuse or normalise.
 *
 * @module
 */

/** An upgraded TCP connection that nobody reads from. */
export interface SilentSocket extends AsyncDisposable {
  readonly conn: Deno.TcpConn;
}

/** The bytes of a WebSocket upgrade request for `path` on 127.0.0.1:`port`. */
export function upgradeRequest(port: number, path: string): Uint8Array {
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
  return {
    conn,
    [Symbol.asyncDispose]() {
      if (!closed) {
        closed = true;
        conn.close();
      }
      return Promise.resolve();
    },
  };
}

/**
 * Writes `bytes` to 127.0.0.1:`port`, ends the writing side, and returns the
 * HTTP status of the answer, or `undefined` when the server closed without
 * one. Reads only the status line (a 101 would otherwise keep the connection
 * open) and gives up after `timeoutMs`.
 */
export async function rawStatus(
  port: number,
  bytes: Uint8Array,
  timeoutMs = 3000,
): Promise<number | undefined> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, timeoutMs);
  let head = "";
  try {
    await conn.write(bytes);
    await conn.closeWrite();
    const decoder = new TextDecoder();
    const chunk = new Uint8Array(4096);
    while (!head.includes("\r\n")) {
      const read = await conn.read(chunk);
      if (read === null) break;
      head += decoder.decode(chunk.subarray(0, read), { stream: true });
    }
  } catch (error) {
    if (timedOut) {
      throw new Error(`No answer from the server within ${timeoutMs} ms`);
    }
    // The server may reset a connection that sent garbage: no answer.
    if (
      !(error instanceof Deno.errors.ConnectionReset ||
        error instanceof Deno.errors.BrokenPipe)
    ) throw error;
  } finally {
    clearTimeout(timer);
    if (!timedOut) conn.close();
  }
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  return match ? Number(match[1]) : undefined;
}
