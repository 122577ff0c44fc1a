/**
 * Binding the port, with every way it can fail turned into one sentence a
 * user can act on ({@linkcode StartupError}), and the line that says where
 * the server is once it listens.
 *
 * @module
 */

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
  /** The database as configured. */
  readonly db: string;
}

/** Where the data lives, in words. */
export function describeData(db: string): string {
  return db === ":memory:"
    ? "in memory (lost when the server stops)"
    : `in ${db}`;
}

/** The one line printed when the server is ready. */
export function startLine({ address, mode, db }: StartFacts): string {
  const everywhere = address.hostname === "0.0.0.0" ||
      address.hostname === "::"
    ? ", on every interface"
    : "";
  return `Chat server ready at ${urlOf(address)} (${mode}${everywhere}); data ${
    describeData(db)
  }`;
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
