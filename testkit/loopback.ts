/** An HTTP server of the test kit, on a port of the loopback address. @module */

/** A server that {@linkcode serveLoopback} started. */
export interface LoopbackServer {
  /** The port it listens on. */
  readonly port: number;
  /** Stops listening and waits until the requests in hand are answered. */
  stop(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1:`port` (0: any free port) once listening. */
export async function serveLoopback(
  handler: Deno.ServeHandler,
  port = 0,
): Promise<LoopbackServer> {
  const controller = new AbortController();
  const listening = Promise.withResolvers<number>();
  const server = Deno.serve({
    port,
    hostname: "127.0.0.1",
    signal: controller.signal,
    onListen: (address) => listening.resolve(address.port),
  }, handler);
  const bound = await listening.promise;
  return {
    port: bound,
    async stop() {
      controller.abort();
      await server.finished;
    },
  };
}
