/**
 * The doc-example runner's own rules (testkit/doc_blocks.ts,
 * testkit/doc_runner.ts, testkit/doc_shell.ts): what counts as a block and a marker, and that a
 * broken example fails instead of passing quietly.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  blocksOf,
  type DocBlock,
  DocMarkerError,
} from "../testkit/doc_blocks.ts";
import { type DocContext, printedToken, runTs } from "../testkit/doc_runner.ts";
import {
  runServerCommand,
  runShell,
  shellCommands,
  startsServer,
} from "../testkit/doc_shell.ts";
import { startServer } from "../testkit/server.ts";

const PAGE = [
  "Intro.",
  "",
  "<!-- doc-test: skip (needs a real domain) -->",
  "",
  "```sh",
  "curl https://chat.example/",
  "```",
  "",
  "- In a list:",
  "",
  "  ```json",
  '  { "a": 1 }',
  "  ```",
  "",
  "```",
  "no language",
  "```",
].join("\n");

Deno.test("the doc-example runner reads blocks and markers", async (t) => {
  const blocks = blocksOf("docs/x.md", PAGE);

  await t.step("each block has its line, language and marker", () => {
    assert.deepEqual(
      blocks.map(({ line, lang, marker }) => ({ line, lang, marker })),
      [
        {
          line: 5,
          lang: "sh",
          marker: { kind: "skip", reason: "needs a real domain" },
        },
        { line: 11, lang: "json", marker: undefined },
        { line: 15, lang: "", marker: undefined },
      ],
    );
    assert.equal(blocks[1]?.text, '{ "a": 1 }\n');
  });

  await t.step("a marker that is not right before a fence is refused", () => {
    assert.throws(
      () => blocksOf("docs/x.md", "<!-- doc-test: skip (why) -->\n\nText.\n"),
      DocMarkerError,
    );
  });

  await t.step("a marker without a reason is refused", () => {
    assert.throws(
      () => blocksOf("docs/x.md", "<!-- doc-test: skip -->\n```sh\nls\n```\n"),
      DocMarkerError,
    );
  });

  await t.step("shell lines are commands; servers are told apart", () => {
    const commands = shellCommands(
      "deno task start --help   # every option\n" +
        "curl -X POST \\\n  http://127.0.0.1:8000/x\n" +
        "# a comment\n" +
        "PORT=9000 deno task start   # variables\n",
    );
    assert.deepEqual(commands, [
      "deno task start --help",
      "curl -X POST    http://127.0.0.1:8000/x",
      "PORT=9000 deno task start",
    ]);
    assert.deepEqual(commands.map(startsServer), [false, false, true]);
  });

  await t.step("a printed JWT is recognised as a minted token", () => {
    assert.equal(printedToken("eyJh.eyJz.sig-_1\n"), "eyJh.eyJz.sig-_1");
    assert.equal(printedToken("ok\n"), undefined);
  });
});

Deno.test("the doc-example runner runs examples against its server and fails broken ones", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "doc-runner-" });
  try {
    await using server = await startServer({ CHAT_API_KEY: "k".repeat(32) });
    const context: DocContext = {
      address: new URL(server.origin).host,
      env: { CHAT_API_KEY: "k".repeat(32) },
      dir,
    };
    const block = (text: string): DocBlock => ({
      page: "docs/x.md",
      line: 1,
      lang: "sh",
      text,
    });

    await t.step("a curl answered with an HTTP error fails", async () => {
      const text = 'curl -X DELETE -H "Authorization: Bearer $CHAT_API_KEY" ' +
        "http://127.0.0.1:8000/api/rooms/lobby/messages/999";
      await assert.rejects(
        () => runShell(block(text), shellCommands(text), context),
        /404|holds no message/,
      );
    });

    await t.step(
      "a curl to the documented address reaches the server",
      async () => {
        const text = "curl http://127.0.0.1:8000/api/rooms";
        const ran = await runShell(block(text), shellCommands(text), context);
        assert.match(ran.stdout, /"rooms"/);
      },
    );

    await t.step(
      "a ts example reaches the server at the documented address",
      async () => {
        const ran = await runTs({
          ...block(
            'const r = await fetch("http://127.0.0.1:8000/api/rooms");\n' +
              "console.log(r.status, await r.text());\n",
          ),
          lang: "ts",
        }, context);
        assert.match(ran?.stdout ?? "", /^200 \{"rooms"/);
      },
    );

    await t.step("a ts example that does not type-check fails", async () => {
      await assert.rejects(
        () =>
          runTs({ ...block('const n: number = "x";\n'), lang: "ts" }, context),
        /does not type-check/,
      );
    });

    await t.step("a server command that cannot start fails", async () => {
      const text = "deno task start --port 9000 --history nonsense";
      await assert.rejects(
        () => runServerCommand(block(text), text, context),
        /exited with 2/,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
