/**
 * Runs the documentation's fenced examples (testkit/doc_blocks.ts) as a
 * reader would, for tests/doc_examples_test.ts, which states the rules:
 * JSON, JavaScript, TypeScript, Python and nginx blocks, and the helpers the
 * shell blocks share (testkit/doc_shell.ts). A failure is an Error that
 * quotes the block's page and line and what the program printed.
 *
 * @module
 */

import { type DocBlock, where } from "./doc_blocks.ts";
import { NGINX } from "./nginx.ts";

/** The repository: `deno task …` examples run from here. */
export const ROOT = new URL("../", import.meta.url);

/** The address the documentation gives the server: the default one. */
export const DOCUMENTED_ADDRESS = "127.0.0.1:8000";
/** How the documentation names a chat server on the web, in examples. */
export const DOCUMENTED_SITE = "https://chat.example";

/**
 * PATH with the running deno's folder first: `deno` in an example is this
 * one, also when the suite was started through `npx deno@…`.
 */
export function pathWithDeno(): string {
  const folder = Deno.execPath().replace(/[/\\][^/\\]*$/, "");
  return [folder, Deno.env.get("PATH") ?? ""].join(":");
}

/** What a block may use: the runner's own server and secrets. */
export interface DocContext {
  /** `host:port` of the server the examples are run against. */
  readonly address: string;
  /** Variables every example sees (`CHAT_API_KEY`, `CHAT_AUTH_SECRET`). */
  readonly env: Readonly<Record<string, string>>;
  /** A temporary folder of this run. */
  readonly dir: string;
}

/** The outcome of one program. */
export interface Ran {
  readonly code: number;
  readonly output: string;
  readonly stdout: string;
}

/** Runs `command` with `args` to its end, within `timeoutMs`. */
export async function run(
  command: string,
  args: readonly string[],
  options: {
    cwd?: string | URL;
    env?: Record<string, string>;
    stdin?: string;
    timeoutMs?: number;
  } = {},
): Promise<Ran> {
  const child = new Deno.Command(command, {
    args: [...args],
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { NO_COLOR: "1", ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const timer = setTimeout(
    () => child.kill("SIGKILL"),
    options.timeoutMs ?? 60_000,
  );
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  const out = new TextDecoder().decode(stdout);
  return {
    code,
    stdout: out,
    output: `${out}${new TextDecoder().decode(stderr)}`,
  };
}

/** An error naming the block, what went wrong and what it printed. */
export function failure(block: DocBlock, what: string, ran?: Ran): Error {
  return new Error(
    `${where(block)} (${block.lang}): ${what}${
      ran ? `\n--- exit ${ran.code}, output:\n${ran.output.slice(-3000)}` : ""
    }\n--- block:\n${block.text}`,
  );
}

/** Throws {@linkcode failure}. */
export function fail(block: DocBlock, what: string, ran?: Ran): never {
  throw failure(block, what, ran);
}

/** `text` with the documented address replaced by the runner's server's. */
export function addressed(text: string, context: DocContext): string {
  return text.replaceAll(DOCUMENTED_ADDRESS, context.address)
    .replaceAll("localhost:8000", context.address)
    .replaceAll(DOCUMENTED_SITE, `http://${context.address}`);
}

/**
 * Writes the block, addressed to the runner's server, to a new file named
 * `name` in a folder of its own.
 */
async function scratch(context: DocContext, name: string, block: DocBlock) {
  const dir = await Deno.makeTempDir({ dir: context.dir });
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, addressed(block.text, context));
  return { dir, path };
}

/** `json`: the block parses. */
export function checkJson(block: DocBlock): string {
  try {
    JSON.parse(block.text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    fail(block, `not JSON: ${error.message}`);
  }
  return "parsed";
}

/** `js`: browser code; parsed (its imports are the page's to resolve). */
export async function checkJs(block: DocBlock): Promise<string> {
  const ran = await run(Deno.execPath(), ["fmt", "--ext=js", "-"], {
    stdin: block.text,
  });
  if (ran.code !== 0) fail(block, "does not parse as JavaScript", ran);
  return "parsed";
}

/**
 * A program's last line, when it is a JWT: the token examples print the
 * token they mint, and the runner's server must accept it.
 */
export function printedToken(stdout: string): string | undefined {
  const last = stdout.trim().split("\n").at(-1)?.trim() ?? "";
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(last) ? last : undefined;
}

/** Whether the server admits `token` to `room` (a plain GET: 426 if so). */
export async function tokenAccepted(
  context: DocContext,
  token: string,
  room = "lobby",
): Promise<{ status: number; body: string }> {
  const response = await fetch(
    `http://${context.address}/ws/chat/${room}/?token=${token}`,
  );
  return { status: response.status, body: await response.text() };
}

/**
 * `ts`: type-checked with `deno check` in a folder outside the project (no
 * deno.json, no import map: as a reader's own script), then run unless
 * marked check-only, against the runner's server. Returns what the program
 * printed.
 */
export async function runTs(
  block: DocBlock,
  context: DocContext,
): Promise<Ran | undefined> {
  const { dir, path } = await scratch(context, "example.ts", block);
  const checked = await run(
    Deno.execPath(),
    ["check", "--allow-import", path],
    { cwd: dir },
  );
  if (checked.code !== 0) fail(block, "does not type-check", checked);
  if (block.marker?.kind === "check-only") return undefined;
  const ran = await run(Deno.execPath(), ["run", "--allow-all", path], {
    cwd: dir,
    env: { ...context.env },
  });
  if (ran.code !== 0) fail(block, "failed", ran);
  return ran;
}

/** The python3 on PATH, if any. */
export async function findPython(): Promise<string | undefined> {
  try {
    const ran = await run("python3", ["--version"]);
    return ran.code === 0 ? "python3" : undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** A Python example's outcome: ran, failed, or a module is missing here. */
export type PythonOutcome =
  | { readonly ran: Ran }
  | { readonly failed: Error }
  | { readonly missing: string };

/**
 * `python`: run with python3, or only compiled when marked check-only; a
 * module it imports may be missing here.
 */
export async function runPython(
  block: DocBlock,
  context: DocContext,
  python: string,
): Promise<PythonOutcome> {
  const { dir, path } = await scratch(context, "example.py", block);
  const ran = block.marker?.kind === "check-only"
    ? await run(python, ["-m", "py_compile", path], { cwd: dir })
    : await run(python, [path], { cwd: dir, env: { ...context.env } });
  if (ran.code === 0) return { ran };
  const missing = /ModuleNotFoundError: No module named '([^']+)'/.exec(
    ran.output,
  )?.[1];
  if (missing) return { missing: `the python module ${missing}` };
  return { failed: failure(block, "failed", ran) };
}

/** `nginx`: a whole nginx.conf, checked with `nginx -t`, paths in a folder. */
export async function checkNginx(
  block: DocBlock,
  context: DocContext,
): Promise<string> {
  const { dir, path } = await scratch(context, "nginx.conf", block);
  const ran = await run(NGINX, [
    "-t",
    "-p",
    dir,
    "-c",
    path,
    "-g",
    `pid ${dir}/nginx.pid; error_log stderr;`,
  ]);
  if (ran.code !== 0) fail(block, "nginx -t refused it", ran);
  return "nginx -t: ok";
}
