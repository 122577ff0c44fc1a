/**
 * A real redis-server for tests: started on a free loopback port with its
 * files in a temporary folder, stopped and started again on the same port
 * and data for the outage tests. Redis comes from the system
 * (`apt-get install redis-server`).
 *
 * @module
 */

import { freePort, ignoreWithout } from "./process.ts";

/** Where Debian installs it. */
export const REDIS_SERVER = "/usr/bin/redis-server";

/**
 * Redis tests run wherever redis-server is installed, and always in CI
 * (which installs it, so that a missing one fails there); elsewhere they
 * are reported as ignored, not passed.
 */
export const ignoreWithoutRedis = ignoreWithout(REDIS_SERVER);

/** Options for {@linkcode startRedis}. */
export interface RedisOptions {
  /** Keep the data across restarts (AOF, fsync on every write). */
  readonly persistent?: boolean;
  /** Require this password (`requirepass`). */
  readonly password?: string;
  /**
   * Speak TLS only, with the certificate for 127.0.0.1 in
   * tests/fixtures/tls (trust `TEST_CA` to connect); the URL is `rediss://`.
   */
  readonly tls?: boolean;
}

/** The CA that signed the fixtures' certificate for 127.0.0.1. */
export const TEST_CA = new URL("../tests/fixtures/tls/ca.pem", import.meta.url)
  .pathname;

/** A running redis-server; dispose it to stop it and remove its files. */
export interface RedisProcess extends AsyncDisposable {
  /** `redis://[:password@]127.0.0.1:<port>/0`. */
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM; it saves when persistent). */
  stop(): Promise<void>;
  /** Starts it again on the same port, with the same files. */
  start(): Promise<void>;
  /** What it printed, for failure messages. */
  output(): string;
}

/** Starts redis-server and waits until it accepts connections. */
export async function startRedis(
  options: RedisOptions = {},
): Promise<RedisProcess> {
  const dir = await Deno.makeTempDir({ prefix: "chat-redis-" });
  const port = freePort();
  const fixture = (name: string) =>
    new URL(`../tests/fixtures/tls/${name}`, import.meta.url).pathname;
  const args = [
    ...(options.tls
      ? [
        "--port",
        "0",
        "--tls-port",
        String(port),
        "--tls-cert-file",
        fixture("server.pem"),
        "--tls-key-file",
        fixture("server.key"),
        "--tls-ca-cert-file",
        fixture("ca.pem"),
        "--tls-auth-clients",
        "no",
      ]
      : ["--port", String(port)]),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--daemonize",
    "no",
    "--logfile",
    "",
    ...(options.persistent
      ? ["--appendonly", "yes", "--appendfsync", "always"]
      : ["--appendonly", "no"]),
    ...(options.password ? ["--requirepass", options.password] : []),
  ];
  const printed: string[] = [];
  let child: Deno.ChildProcess | undefined;
  let drained: Promise<void> = Promise.resolve();

  const start = async () => {
    const process = new Deno.Command(REDIS_SERVER, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    child = process;
    const ready = Promise.withResolvers<void>();
    const read = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        printed.push(chunk);
        if (printed.join("").includes("Ready to accept connections")) {
          ready.resolve();
        }
      }
    };
    drained = Promise.all([read(process.stdout), read(process.stderr)]).then(
      () => {},
    );
    const exited = process.status.then((status) => {
      throw new Error(
        `redis-server exited with ${status.code}:\n${printed.join("")}`,
      );
    });
    await Promise.race([ready.promise, exited]);
    exited.catch(() => {});
    printed.length = 0;
  };

  const stop = async () => {
    if (!child) return;
    const process = child;
    child = undefined;
    process.kill("SIGTERM");
    await process.status;
    await drained;
  };

  await start();
  const auth = options.password ? `:${options.password}@` : "";
  return {
    url: `${options.tls ? "rediss" : "redis"}://${auth}127.0.0.1:${port}/0`,
    port,
    stop,
    start,
    output: () => printed.join(""),
    async [Symbol.asyncDispose]() {
      await stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
