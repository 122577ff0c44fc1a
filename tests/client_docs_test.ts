/**
 * docs/client.md shows its three examples verbatim from
 * docs/examples/client/, and two of them work against a real server: the
 * Deno bot (importing the library from the server's `/client.js`) answers
 * `!time`, and the Node script (from the packed npm package) posts and
 * exits 0, or 1 when refused.
 *
 * @module
 */

import assert from "node:assert/strict";
import { decoder, ROOT, Spawned } from "../testkit/cli.ts";
import { installClientPackage, NODE } from "../testkit/npm_package.ts";
import { startServer, storedMessages, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

const EXAMPLES = ["widget.html", "time_bot.ts", "post.mjs"];

/** The address the examples import the library from. */
const PUBLIC_CLIENT = "https://chat.example/client.js";

const ENV = { CHAT_RATE_LIMIT: "0", CHAT_CONNECT_RATE: "0" };

function example(name: string): Promise<string> {
  return Deno.readTextFile(new URL(`docs/examples/client/${name}`, ROOT));
}

Deno.test("docs/client.md shows each example exactly as its file", async () => {
  const doc = await Deno.readTextFile(new URL("docs/client.md", ROOT));
  const marked = [...doc.matchAll(
    /<!-- example: examples\/client\/([\w.]+) -->\n\n(?:<!-- doc-test: [^\n]* -->\n\n)?```\w+\n([\s\S]*?)```/g,
  )].map(([, name = "", body = ""]) => ({ name, body }));
  assert.deepEqual(marked.map((block) => block.name), EXAMPLES);
  for (const { name, body } of marked) {
    assert.equal(body, await example(name), `the block of ${name}`);
  }
});

Deno.test("the Deno bot of docs/client.md answers !time", async () => {
  await using server = await startServer(ENV);
  const room = uniqueRoom("bot");
  const dir = await Deno.makeTempDir({ prefix: "chat-client-bot-" });
  try {
    // Said before the bot came: it is history, not for the bot.
    {
      await using early = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=early`),
      );
      early.send({ message: "!time" });
      await early.waitForType("message", 1);
    }
    const importMap = `${dir}/import_map.json`;
    await Deno.writeTextFile(
      importMap,
      JSON.stringify({
        imports: { [PUBLIC_CLIENT]: `${server.origin}/client.js` },
      }),
    );
    const { host } = new URL(server.origin);
    await using bot = new Spawned(Deno.execPath(), [
      "run",
      "--no-config",
      "--no-lock",
      `--import-map=${importMap}`,
      `--allow-import=${host}`,
      `--allow-net=${host}`,
      "--allow-env=CHAT_URL,CHAT_ROOM",
      "docs/examples/client/time_bot.ts",
    ], { CHAT_URL: server.origin, CHAT_ROOM: room });
    await bot.waitFor(/^Answering !time in \S+ as time-bot$/m);

    await using asker = await TestClient.join(
      server.wsUrl(`/ws/chat/${room}/?name=asker`),
    );
    asker.send({ message: "!time" });
    const [answer] = await asker.waitForMatching(
      (frame) => frame.type === "message" && frame.user === "time-bot",
      1,
      10_000,
    );
    assert.match(
      String(answer?.message),
      /^asker: it is \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
    );
    // A last message after the answer: a second answer would come first.
    asker.send({ message: "thanks" });
    await asker.waitForMatching((frame) => frame.message === "thanks", 1);
    const answers = (await storedMessages(server, room))
      .filter((m) => m.message.includes(": it is "));
    assert.equal(answers.length, 1, "one answer, to the live !time only");

    const status = await bot.stop("SIGINT");
    assert.equal(status.code, 0, bot.output());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs the Node script of the docs in `project` to its exit. */
async function post(project: string, args: string[]) {
  const output = await new Deno.Command(NODE[0], {
    args: [...NODE.slice(1), "post.mjs", ...args],
    cwd: project,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("the Node script of docs/client.md posts and exits", async (t) => {
  await using server = await startServer(ENV);
  await using project = await installClientPackage();
  await Deno.writeTextFile(
    `${project.dir}/post.mjs`,
    await example("post.mjs"),
  );

  await t.step("0 once the message is stored", async () => {
    const room = uniqueRoom("post");
    const run = await post(project.dir, [
      server.origin,
      room,
      "Build",
      "green",
    ]);
    assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
    const [stored] = await storedMessages(server, room);
    assert.equal(stored?.message, "Build green");
    assert.equal(
      run.stdout,
      `Posted #${stored?.id} in ${room} as ci-bot\n`,
    );
  });

  await t.step("1 when the server refuses", async () => {
    const run = await post(project.dir, [server.origin, "no room!", "hi"]);
    assert.equal(run.code, 1, `${run.stdout}${run.stderr}`);
    assert.match(run.stderr, /^Refused \(400\): /m);
  });
});
