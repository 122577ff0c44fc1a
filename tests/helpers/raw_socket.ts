/**
 * A WebSocket client at the TCP level that completes the handshake and then
 * never reads again: the slow or stuck client a server must survive.
 *
 * @module
 */

/** An upgraded TCP connection that nobody reads from. */
export interface SilentSocket extends AsyncDisposable {
  readonly conn: Deno.TcpConn;
}

/** Opens `path` on 127.0.0.1:`port` as a WebSocket, then stops reading. */
export async function openSilentSocket(
  port: number,
  path: string,
): Promise<SilentSocket> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa(
    String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))),
  );
  const request = [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
    "",
    "",
  ].join("\r\n");
  await conn.write(new TextEncoder().encode(request));
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
