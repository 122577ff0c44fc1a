/**
 * The shell examples of the documentation, for tests/doc_examples_test.ts:
 * a block's commands, those that start the chat server (run alone, on a
 * free port, then stopped), and the rest (run as one script against the
 * runner's server).
 *
 * @module
 */

import type { DocBlock } from "./doc_blocks.ts";
import {
  addressed,
  type DocContext,
  fail,
  pathWithDeno,
  type Ran,
  ROOT,
  run,
} from "./doc_runner.ts";
import { freePort } from "./process.ts";

/** One command of a shell block, continuation lines joined. */
export function shellCommands(text: string): string[] {
  return text.replace(/\\\n/g, " ").split("\n")
    .map((line) => line.replace(/\s+# .*$/, "").replace(/^#.*$/, "").trim())
    .filter((line) => line !== "");
}

const SERVER_COMMAND =
  /(^|[\s;])(deno(@[\d.]+)? task (start|start:parallel|dev)|\.\/dist\/chat-server)(\s|$)/;

/** A command that starts the chat server and keeps running (not `--help`). */
export function startsServer(command: string): boolean {
  return SERVER_COMMAND.test(command) && !/\s--help\b/.test(command);
}

/**
 * Runs a command that starts a server: on a free port and 127.0.0.1
 * whatever it names, its data in a temporary folder; waits for the ready
 * line, then stops it with SIGTERM, which must end it with 0.
 */
export async function runServerCommand(
  block: DocBlock,
  command: string,
  context: DocContext,
): Promise<string> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ dir: context.dir });
  const line = command
    .replace(/--port[ =]\d+/g, `--port ${port}`)
    .replace(/\bPORT=\d+/g, `PORT=${port}`)
    .replace(/\b0\.0\.0\.0\b/g, "127.0.0.1")
    .replaceAll("/var/lib/chat/", `${dir}/`);
  const child = new Deno.Command("bash", {
    args: ["-c", line],
    cwd: ROOT,
    env: {
      NO_COLOR: "1",
      PATH: pathWithDeno(),
      PORT: String(port),
      HOST: "127.0.0.1",
      CHAT_DB: `${dir}/chat.db`,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const printed: string[] = [];
  const ready = Promise.withResolvers<string>();
  const read = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      printed.push(chunk);
      const url = /Chat server ready at (\S+)/.exec(printed.join(""))?.[1];
      if (url) ready.resolve(url);
    }
  };
  const drained = Promise.all([read(child.stdout), read(child.stderr)]);
  const timer = setTimeout(
    () => ready.reject(new Error("no ready line")),
    30_000,
  );
  let running = true;
  const stop = (signal: Deno.Signal) => {
    if (running) child.kill(signal);
  };
  const exited = child.status.then((status) => {
    running = false;
    ready.reject(new Error(`exited with ${status.code} before it was ready`));
    return status;
  });
  let url: string;
  try {
    url = await ready.promise;
  } catch (error) {
    stop("SIGKILL");
    await Promise.all([exited, drained]);
    fail(block, `\`${line}\`: ${String(error)}`, {
      code: -1,
      stdout: "",
      output: printed.join(""),
    });
  } finally {
    clearTimeout(timer);
  }
  // Any answer shows it serves: a Host it does not allow (a documented
  // CHAT_ALLOWED_HOSTS) is a 400 from the server itself.
  const page = await fetch(url);
  await page.body?.cancel();
  stop("SIGTERM");
  const kill = setTimeout(() => stop("SIGKILL"), 10_000);
  const status = await exited;
  clearTimeout(kill);
  await drained;
  if (page.status >= 500 || status.code !== 0) {
    fail(block, `\`${line}\`: page ${page.status}, exit ${status.code}`, {
      code: status.code,
      stdout: "",
      output: printed.join(""),
    });
  }
  return `served ${url} and stopped`;
}

/**
 * Runs the block's other commands as one bash script (`set -euo pipefail`)
 * from the repository, against the runner's server: the documented address
 * replaced by it, `curl` failing on an HTTP error (`--fail-with-body` in a
 * .curlrc of the run's own).
 */
export async function runShell(
  block: DocBlock,
  commands: readonly string[],
  context: DocContext,
): Promise<Ran> {
  const curlHome = `${context.dir}/curl`;
  await Deno.mkdir(curlHome, { recursive: true });
  await Deno.writeTextFile(
    `${curlHome}/.curlrc`,
    "--fail-with-body\n--silent\n--show-error\n",
  );
  const script = addressed(
    ["set -euo pipefail", ...commands].join("\n"),
    context,
  );
  const ran = await run("bash", ["-c", script], {
    cwd: ROOT,
    env: { PATH: pathWithDeno(), CURL_HOME: curlHome, ...context.env },
  });
  if (ran.code !== 0) fail(block, "failed", ran);
  return ran;
}
