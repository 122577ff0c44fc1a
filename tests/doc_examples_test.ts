/**
 * Every fenced example of README.md and docs/*.md runs as written, or is
 * checked, by its language (docs/contributing.md says how to write one):
 *
 * - `sh`, `bash`: run with bash (`set -euo pipefail`) from the repository,
 *   against one server this test starts on a free port. The documentation
 *   addresses the server as `127.0.0.1:8000` (the default) or, on the
 *   web, `https://chat.example`; the test replaces either with its
 *   server's. `CHAT_API_KEY` and
 *   `CHAT_AUTH_SECRET` are set to that server's; its room `lobby` holds 42
 *   messages before the first block runs, so that an example may name one.
 *   `CHAT_WEBHOOK_SECRET` is a valid signing secret for the examples that
 *   verify events. `curl` fails on an HTTP error (`--fail-with-body`). A command that
 *   starts the chat server (`deno task start…`, `./dist/chat-server`, not
 *   `--help`) runs alone, on a free port and 127.0.0.1 whatever it names,
 *   with its data (and `/var/lib/chat/`) in a temporary folder, until it
 *   prints its ready line; then SIGTERM must end it with 0.
 * - `ts`, `typescript`: `deno check` in a folder outside the project (no
 *   deno.json: a reader's own script), then run with `deno run -A`, unless
 *   marked check-only (which compiles a `python` block without running it
 *   too). `ts` and `python` blocks get the address and variables `sh` ones
 *   get.
 * - `python`: run with python3; reported as ignored where python3, or a
 *   module the block imports, is missing (except in CI, which installs
 *   them).
 * - A `ts` or `python` example whose last printed line is a JWT mints
 *   tokens: the server (`CHAT_AUTH=optional`) must admit it to `lobby`.
 * - `nginx`: a whole nginx.conf, `nginx -t` with its paths in a temporary
 *   folder (ignored without nginx, except in CI).
 * - `json`: parses. `js`, `javascript`: browser code, parsed only.
 * - `html`: listed as ignored (markup; the browser tests load the pages).
 * - `text`: output and diagrams, not run. Any other language fails.
 *
 * `<!-- doc-test: skip (reason) -->` on the last line before a fence skips
 * its block; the run lists each with its reason. The cross-compile recipe is
 * skipped (deno compile downloads runtimes): its flags are compared with
 * the `compile` task's instead.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type DocBlock,
  docBlocks,
  docPages,
  where,
} from "../testkit/doc_blocks.ts";
import {
  checkJs,
  checkJson,
  checkNginx,
  type DocContext,
  findPython,
  printedToken,
  ROOT,
  runPython,
  runTs,
  tokenAccepted,
} from "../testkit/doc_runner.ts";
import {
  runServerCommand,
  runShell,
  shellCommands,
  startsServer,
} from "../testkit/doc_shell.ts";
import { ignoreWithoutNginx } from "../testkit/nginx.ts";
import { taskFlags } from "../testkit/process.ts";
import { startServer } from "../testkit/server.ts";
import { SECRET_A as WEBHOOK_SECRET } from "../testkit/settings.ts";

const API_KEY = "doc-examples-api-key-0123456789abcdef";
const SECRET = "doc-examples-secret-of-at-least-32-bytes";
/** Messages in `lobby` before the examples run. */
const SEEDED = 42;

/** The flags of a `deno compile` example: permissions, unstable, V8. */
function compileFlags(text: string): string[] {
  const words = text.split(/[\s"']+/);
  return [
    ...new Set(
      words.filter((word) => /^--(allow|deny|unstable|v8-flags)/.test(word)),
    ),
  ].sort();
}

/** Fails unless a program that printed `stdout` minted a usable token. */
async function checkToken(
  block: DocBlock,
  context: DocContext,
  stdout: string,
): Promise<string> {
  const token = printedToken(stdout);
  if (token === undefined) return "ran";
  const { status, body } = await tokenAccepted(context, token);
  assert.equal(status, 426, `${where(block)}: its token was refused: ${body}`);
  return "ran; the server admits its token";
}

Deno.test("every documented example runs as written", async (t) => {
  const blocks = await docBlocks(ROOT);
  const dir = await Deno.makeTempDir({ prefix: "doc-examples-" });
  try {
    await using server = await startServer({
      CHAT_API_KEY: API_KEY,
      CHAT_AUTH: "optional",
      CHAT_AUTH_SECRET: SECRET,
      CHAT_RATE_LIMIT: "0",
      CHAT_DB: `${dir}/chat.db`,
    });
    for (let n = 1; n <= SEEDED; n++) {
      const response = await fetch(
        `${server.origin}/api/rooms/lobby/messages`,
        {
          method: "POST",
          headers: {
            Authorization: `Bearer ${API_KEY}`,
            "Content-Type": "application/json",
          },
          body: JSON.stringify({ user: "Seed", message: `message ${n}` }),
        },
      );
      assert.equal(response.status, 201, await response.text());
    }
    const context: DocContext = {
      address: new URL(server.origin).host,
      env: {
        CHAT_API_KEY: API_KEY,
        CHAT_AUTH_SECRET: SECRET,
        CHAT_WEBHOOK_SECRET: WEBHOOK_SECRET,
      },
      dir,
    };
    const python = await findPython();

    for (const block of blocks) {
      const name = `${where(block)} ${block.lang || "(no language)"}`;
      if (block.lang === "text") continue;
      if (block.marker?.kind === "skip") {
        await t.step({
          name: `${name}: skipped (${block.marker.reason})`,
          ignore: true,
          fn: () => {},
        });
        continue;
      }
      switch (block.lang) {
        case "sh":
        case "bash": {
          const commands = shellCommands(block.text);
          const servers = commands.filter(startsServer);
          // Without servers the block runs whole, as a reader pastes it.
          const others = servers.length === 0
            ? [block.text]
            : commands.filter((command) => !startsServer(command));
          await t.step(`${name}: runs`, async () => {
            for (const command of servers) {
              await runServerCommand(block, command, context);
            }
            if (others.length > 0) await runShell(block, others, context);
          });
          break;
        }
        case "ts":
        case "typescript":
          await t.step(
            `${name}: ${
              block.marker?.kind === "check-only"
                ? "type-checks"
                : "type-checks and runs"
            }`,
            async () => {
              const ran = await runTs(block, context);
              if (ran) await checkToken(block, context, ran.stdout);
            },
          );
          break;
        case "python":
        case "py": {
          // Run first: a module missing here makes the step ignored.
          const outcome = python === undefined
            ? { missing: "python3" }
            : await runPython(block, context, python);
          // CI installs them (.ci/run): missing there is a failure.
          if ("missing" in outcome && Deno.env.get("CI") !== "true") {
            await t.step({
              name: `${name}: ignored (${outcome.missing} is not installed)`,
              ignore: true,
              fn: () => {},
            });
            break;
          }
          await t.step(`${name}: runs`, async () => {
            if ("missing" in outcome) {
              assert.fail(`${outcome.missing} is missing`);
            }
            if ("failed" in outcome) throw outcome.failed;
            await checkToken(block, context, outcome.ran.stdout);
          });
          break;
        }
        case "html":
          await t.step({
            name:
              `${name}: ignored (markup for a browser; the browser tests load the pages)`,
            ignore: true,
            fn: () => {},
          });
          break;
        case "nginx":
          await t.step({
            name: `${name}: nginx -t accepts it`,
            ignore: ignoreWithoutNginx,
            fn: () => checkNginx(block, context).then(() => {}),
          });
          break;
        case "json":
          await t.step(`${name}: parses`, () => {
            checkJson(block);
          });
          break;
        case "js":
        case "javascript":
          await t.step(`${name}: parses`, () => checkJs(block).then(() => {}));
          break;
        default:
          await t.step(`${name}: has a language the runner knows`, () => {
            assert.fail(
              `${where(block)}: no rule for "${block.lang}": use sh, ts, ` +
                `python, nginx, json, js or text, or a skip marker`,
            );
          });
      }
    }

    await t.step(
      "the cross-compile recipe's flags are the compile task's",
      () => {
        const recipes = blocks.filter((block) =>
          /\bdeno compile\b/.test(block.text)
        );
        assert.ok(recipes.length > 0, "no deno compile example found");
        const task = [...new Set(taskFlags("compile"))].sort();
        for (const recipe of recipes) {
          assert.deepEqual(compileFlags(recipe.text), task, where(recipe));
        }
      },
    );

    await t.step(
      "every --allow-env list the pages quote is the compile task's",
      async () => {
        const flag = taskFlags("compile").find((word) =>
          word.startsWith("--allow-env=")
        );
        const task = flag?.slice("--allow-env=".length);
        assert.ok(task, "the compile task has an --allow-env list");
        let quoted = 0;
        for (const page of await docPages(ROOT)) {
          const source = await Deno.readTextFile(new URL(page, ROOT));
          for (
            const [, list] of source.matchAll(/`([A-Z_]+(?:,[A-Z_*]+)+)`/g)
          ) {
            quoted++;
            assert.equal(list, task, `${page} quotes ${list}`);
          }
        }
        assert.ok(quoted > 0, "no page quotes the list");
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
