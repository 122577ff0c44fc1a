/**
 * Binding the port, with every way it can fail turned into one sentence a
 * user can act on ({@linkcode StartupError}), and the line that says where
 * the server is once it listens.
 *
 * @module
 */

import type { Logger } from "../observability/log.ts";
import { type Config, ConfigError } from "./settings.ts";

/** The server cannot start; the message is the one line the user sees. */
export class StartupError extends Error {
  override name = "StartupError";
}

/** Where and how to listen. */
export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  /** Share the port with the other workers of this process. */
  readonly reusePort?: boolean;
}

/** A listening HTTP server and the address it bound. */
export interface Listening {
  readonly server: Deno.HttpServer<Deno.NetAddr>;
  readonly address: Deno.NetAddr;
}

/** Explains a failed bind of `host`:`port`. */
export function explainBindFailure(
  error: unknown,
  { host, port }: ListenOptions,
): StartupError | undefined {
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (error instanceof Deno.errors.AddrInUse) {
    return new StartupError(
      `port ${port} on ${host} is already in use (is another server running?); choose another port with --port or PORT`,
    );
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return new StartupError(
      `cannot listen on ${where}: ${host} is not an address of this machine; choose one with --host or HOST`,
    );
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new StartupError(
      `not allowed to listen on ${where} (ports below 1024 need privileges); choose another port with --port or PORT`,
    );
  }
  if (error instanceof Error && /Too many open files/i.test(error.message)) {
    return new StartupError(
      `cannot listen on ${where}: the process is out of file descriptors (raise ulimit -n)`,
    );
  }
  if (error instanceof Deno.errors.NotCapable) {
    return new StartupError(
      `Deno's permissions do not allow listening on ${where}; run with --allow-net`,
    );
  }
  if (
    error instanceof Error &&
    /lookup address|Name or service not known|nodename nor servname/i.test(
      error.message,
    )
  ) {
    return new StartupError(
      `cannot resolve the host name ${host}; give an IP address, or a name this machine resolves, with --host or HOST`,
    );
  }
  return undefined;
}

/**
 * Starts `handler` on `host`:`port`, exactly that address and no other.
 * Throws {@linkcode StartupError} when the port cannot be bound.
 */
export function listen(
  options: ListenOptions,
  handler: Deno.ServeHandler<Deno.NetAddr>,
): Listening {
  try {
    const server = Deno.serve({
      hostname: options.host,
      port: options.port,
      ...(options.reusePort ? { reusePort: true } : {}),
      // The start line is printed once for the whole process, by the caller.
      onListen: () => {},
    }, handler);
    return { server, address: server.addr };
  } catch (error) {
    throw explainBindFailure(error, options) ?? error;
  }
}

/** What {@linkcode serveResiliently} reports, for the log. */
export interface ListenerEvents {
  /** The listener stopped accepting (out of file descriptors, say). */
  onAcceptFailed(error: unknown): void;
  /** It listens again after `failedForMs`. */
  onAcceptResumed(failedForMs: number): void;
}

/** A listener that binds again when its accept loop dies. */
export interface ResilientListener {
  readonly address: Deno.NetAddr;
  /** Stops accepting, lets requests finish, and stops rebinding. */
  shutdown(): Promise<void>;
}

/** The pause before the first rebind, doubled up to the second. */
const REBIND_FIRST_MS = 250;
const REBIND_MAX_MS = 2000;

/**
 * Serves `handler` like {@linkcode listen}, and keeps serving: when Deno's
 * accept loop ends with an error (EMFILE from a flood of idle connections
 * ends it for good, and would end the process), the open WebSockets carry
 * on, the loop's pending connections are dropped with it, and the port is
 * bound again, with backoff, on the address first bound. Start-up failures
 * still throw {@linkcode StartupError}.
 */
export function serveResiliently(
  options: ListenOptions,
  handler: Deno.ServeHandler<Deno.NetAddr>,
  events: ListenerEvents,
): ResilientListener {
  const first = listen(options, handler);
  // Port 0 resolves once; rebinding takes the same port again.
  const again = { ...options, port: first.address.port };
  let current = first.server;
  /** Whether `current`'s accept loop still runs. */
  let alive = true;
  let stopping = false;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const watch = (server: Deno.HttpServer<Deno.NetAddr>) => {
    server.finished.catch((error: unknown) => {
      alive = false;
      if (stopping) return;
      events.onAcceptFailed(error);
      const failedAt = Date.now();
      let wait = REBIND_FIRST_MS;
      const rebind = () => {
        retry = undefined;
        if (stopping) return;
        try {
          current = listen(again, handler).server;
          alive = true;
          watch(current);
          events.onAcceptResumed(Date.now() - failedAt);
        } catch (error) {
          if (!(error instanceof StartupError)) throw error;
          // Still out of descriptors, or the port is taken: later.
          wait = Math.min(wait * 2, REBIND_MAX_MS);
          retry = setTimeout(rebind, wait);
        }
      };
      retry = setTimeout(rebind, wait);
    });
  };
  watch(current);

  return {
    address: first.address,
    async shutdown() {
      stopping = true;
      clearTimeout(retry);
      // A loop that died (and is not back yet) has nothing to shut down.
      if (alive) await current.shutdown();
    },
  };
}

/** Logs what the listener goes through. */
export function listenerEvents(log: Logger): ListenerEvents {
  return {
    onAcceptFailed: (error) =>
      log.error("server.accept_failed", {
        error,
        action: "dropped pending connections; listening again shortly",
      }),
    onAcceptResumed: (failedForMs) =>
      log.warn("server.accept_resumed", { failedForMs }),
  };
}

/** The address as a URL a browser can open. */
export function urlOf(address: Pick<Deno.NetAddr, "hostname" | "port">) {
  const host = address.hostname.includes(":")
    ? `[${address.hostname}]`
    : address.hostname;
  return `http://${host}:${address.port}/chat/`;
}

/** What the start line and its log event say. */
export interface StartFacts {
  readonly address: Pick<Deno.NetAddr, "hostname" | "port">;
  /** How the port is served, e.g. `1 isolate` or `2 workers`. */
  readonly mode: string;
  /** Where the data lives, in words (`describeData` in server/app.ts). */
  readonly data: string;
}

/** The one line printed when the server is ready. */
export function startLine({ address, mode, data }: StartFacts): string {
  const everywhere = address.hostname === "0.0.0.0" ||
      address.hostname === "::"
    ? ", on every interface"
    : "";
  return `Chat server ready at ${
    urlOf(address)
  } (${mode}${everywhere}); data ${data}`;
}

/** The `DENO_SERVE_ADDRESS` that makes `deno serve` listen where `config` says. */
export function denoServeAddress(
  config: Pick<Config, "host" | "port">,
): string {
  const host = config.host === "localhost" ? "127.0.0.1" : config.host;
  if (!host.includes(":") && !/^[\d.]+$/.test(host)) {
    throw new ConfigError(
      `under deno serve, --host must be an IP address (deno serve cannot resolve host names), got ${
        JSON.stringify(config.host)
      }`,
    );
  }
  return `tcp:${host.includes(":") ? `[${host}]` : host}:${config.port}`;
}
