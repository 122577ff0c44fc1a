/**
 * Configuration, read in one place: command-line flags first, then
 * environment variables, then defaults. Every other module receives a
 * {@linkcode Config} and reads neither `Deno.args` nor `Deno.env`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { isLogLevel, type LogLevel } from "./log.ts";

/** Everything the server can be told at start. */
export interface Config {
  /** TCP port. Flag `--port`, env `PORT`. @default 8000 */
  readonly port: number;
  /** Interface to listen on. Flag `--host`, env `HOST`. @default "127.0.0.1" */
  readonly host: string;
  /** Lowest log level printed. Env `LOG_LEVEL`. @default "info" */
  readonly logLevel: LogLevel;
  /** Longest chat message in characters. Env `CHAT_MAX_MESSAGE_CHARS`. @default 2000 */
  readonly maxMessageChars: number;
}

/** A flag or variable had a value the server cannot use. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads an environment variable; `Deno.env.get` in production. */
export type EnvLookup = (name: string) => string | undefined;

function parseInteger(
  value: string,
  source: string,
  min: number,
  max: number,
): number {
  const trimmed = value.trim();
  const number = Number(trimmed);
  if (trimmed === "" || !Number.isInteger(number)) {
    throw new ConfigError(
      `${source} must be a whole number, got ${JSON.stringify(value)}`,
    );
  }
  if (number < min || number > max) {
    throw new ConfigError(
      `${source} must be between ${min} and ${max}, got ${number}`,
    );
  }
  return number;
}

/** Parses flags and environment into a {@linkcode Config}. */
export function loadConfig(args: readonly string[], env: EnvLookup): Config {
  let flags;
  try {
    flags = parseArgs({
      args: [...args],
      options: {
        port: { type: "string" },
        host: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    if (error instanceof TypeError) throw new ConfigError(error.message);
    throw error;
  }

  const portText = flags.port ?? env("PORT");
  const port = portText === undefined
    ? 8000
    : parseInteger(portText, flags.port ? "--port" : "PORT", 0, 65535);

  const host = (flags.host ?? env("HOST") ?? "127.0.0.1").trim();
  if (host === "") throw new ConfigError("HOST must not be empty");

  const logLevelText = env("LOG_LEVEL")?.trim().toLowerCase() ?? "info";
  if (!isLogLevel(logLevelText)) {
    throw new ConfigError(
      `LOG_LEVEL must be one of debug, info, warn, error; got ${
        JSON.stringify(logLevelText)
      }`,
    );
  }

  const maxText = env("CHAT_MAX_MESSAGE_CHARS");
  const maxMessageChars = maxText === undefined
    ? 2000
    : parseInteger(maxText, "CHAT_MAX_MESSAGE_CHARS", 1, 1_000_000);

  return { port, host, logLevel: logLevelText, maxMessageChars };
}

/** The `DENO_SERVE_ADDRESS` value that makes `deno serve` use this config. */
export function denoServeAddress(config: Config): string {
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return `tcp:${host}:${config.port}`;
}
