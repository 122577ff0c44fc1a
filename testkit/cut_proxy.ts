/**
 * A TCP proxy in front of a test server that can lose what is said:
 * `hold("replies")` drops every byte from the server to its clients from
 * then on (what a client sends still arrives and is processed),
 * `hold("both")` drops both ways, and `cut()` closes every connection
 * through it. So a test can make a client lose the echo of a message the
 * server stored, or a message it sent, and then its connection.
 *
 * @module
 */

/** A proxy to `127.0.0.1:<port>`; dispose it to close every connection. */
export class CutProxy implements AsyncDisposable {
  readonly origin: string;
  readonly #listener: Deno.TcpListener;
  readonly #target: number;
  readonly #connections = new Set<Deno.TcpConn>();
  readonly #pipes = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;
  #holding: "none" | "replies" | "both" = "none";

  constructor(targetPort: number) {
    this.#target = targetPort;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.origin = `http://127.0.0.1:${this.#listener.addr.port}`;
    this.#accepting = this.#accept();
  }

  /**
   * From now on, nothing the server sends reaches a client (`replies`),
   * nor anything a client sends the server (`both`).
   */
  hold(what: "replies" | "both"): void {
    this.#holding = what;
  }

  /** Closes every connection; new ones are forwarded both ways again. */
  async cut(): Promise<void> {
    this.#holding = "none";
    for (const connection of this.#connections) this.#close(connection);
    await Promise.all(this.#pipes);
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) {
        const server = await Deno.connect({
          hostname: "127.0.0.1",
          port: this.#target,
        });
        this.#connections.add(client);
        this.#connections.add(server);
        const both = Promise.all([
          this.#pipe(client, server, () => this.#holding === "both"),
          this.#pipe(server, client, () => this.#holding !== "none"),
        ]).then(() => {});
        this.#pipes.add(both);
        void both.finally(() => this.#pipes.delete(both));
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }

  /** Copies `from` to `to` (dropping while `dropping()`), then closes both. */
  async #pipe(
    from: Deno.TcpConn,
    to: Deno.TcpConn,
    dropping: () => boolean,
  ): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const read = await from.read(buffer);
        if (read === null) break;
        if (dropping()) continue;
        let written = 0;
        while (written < read) {
          written += await to.write(buffer.subarray(written, read));
        }
      }
    } catch (error) {
      // The other side or cut() closed it.
      if (
        !(error instanceof Deno.errors.BadResource ||
          error instanceof Deno.errors.ConnectionReset ||
          error instanceof Deno.errors.BrokenPipe ||
          error instanceof Deno.errors.Interrupted)
      ) throw error;
    } finally {
      this.#close(from);
      this.#close(to);
    }
  }

  #close(connection: Deno.TcpConn): void {
    if (!this.#connections.delete(connection)) return;
    connection.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    await this.cut();
  }
}
