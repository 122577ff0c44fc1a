/**
 * The client library as an npm package: `npm pack` of client/, installed
 * from the tarball into a fresh Node project, runs on Node 22 against a
 * real server (connects, sends, receives its own message and another
 * client's, closes and lets Node exit), and a TypeScript consumer of the
 * installed package type-checks against its d.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ROOT, Spawned } from "../testkit/cli.ts";
import { installClientPackage, NODE, run } from "../testkit/npm_package.ts";
import { freePort, SERVER, startServerProcess } from "../testkit/process.ts";
import { RestartableServer } from "../testkit/restartable_server.ts";
import { storedMessages, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);

Deno.test("the packed client installs and works in a Node 22 project", async (t) => {
  await using project = await installClientPackage();

  await t.step(
    "the tarball holds the library, its types and nothing else",
    async () => {
      const listed = await run(["tar", "-tzf", project.tarball], project.dir);
      const modules: string[] = [];
      for await (const entry of Deno.readDir(new URL("client/", ROOT))) {
        if (/\.(js|d\.ts)$/.test(entry.name)) modules.push(entry.name);
      }
      assert.ok(modules.includes("chat_client.js"), modules.join());
      assert.deepEqual(
        listed.trim().split("\n").sort(),
        [...modules, "package.json"].map((name) => `package/${name}`).sort(),
      );
    },
  );

  await t.step("a Node script chats through it and exits", async () => {
    await using server = await startServerProcess({
      args: SERVER.run(),
      env: { LOG_LEVEL: "warn" },
    });
    const room = uniqueRoom("node");
    const script = `${project.dir}/chat.mjs`;
    await Deno.copyFile(new URL("client_node.mjs", FIXTURES), script);
    await using deno = await TestClient.join(
      server.wsUrl(`/ws/chat/${room}/?name=deno`),
    );
    await using node = new Spawned(NODE[0], [
      ...NODE.slice(1),
      script,
      server.origin,
      room,
    ]);
    await node.waitFor(/^stored \d+ node$/m, 60_000);
    const [fromNode] = await deno.waitForType("message", 1);
    assert.match(String(fromNode?.message), /^hello from node v22\./);
    deno.send({ message: "hello from deno" });
    const status = await node.child.status;
    await node.pipesClosed;
    const lines = node.output().trim().split("\n");
    assert.equal(status.code, 0, node.output());
    assert.deepEqual(lines, [
      "state open",
      `message node: ${fromNode?.message}`,
      `stored ${fromNode?.id} node`,
      "ChatError is exported: function",
      "message deno: hello from deno",
      "state closed",
    ]);
  });

  await t.step(
    "a client started before its server retries until it is up",
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "chat-client-node-" });
      try {
        await using server = new RestartableServer({
          port: freePort(),
          env: { LOG_LEVEL: "warn", CHAT_DB: `${dir}/chat.db` },
        });
        const script = `${project.dir}/retry.mjs`;
        await Deno.copyFile(new URL("client_node_retry.mjs", FIXTURES), script);
        const room = uniqueRoom("early");
        await using node = new Spawned(NODE[0], [
          ...NODE.slice(1),
          script,
          server.origin,
          room,
        ]);
        await node.waitFor(/^started$/m, 60_000);
        await server.start();
        const [, id] = await node.waitFor(/^stored (\d+)$/m);
        assert.deepEqual(await storedMessages(server, room), [
          { id: Number(id), message: "sent before the server was up" },
        ]);
        assert.equal((await node.child.status).code, 0, node.output());
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );

  await t.step(
    "a TypeScript consumer type-checks against the d.ts",
    async () => {
      await Deno.copyFile(
        new URL("client_consumer.ts", FIXTURES),
        `${project.dir}/consumer.ts`,
      );
      await run([Deno.execPath(), "check", "consumer.ts"], project.dir);
    },
  );

  await t.step(
    "CloseCode keeps its literal types through the package",
    async () => {
      await Deno.writeTextFile(
        `${project.dir}/close_codes.ts`,
        `import { CloseCode } from "${project.name}";\n` +
          "const expired: 4001 = CloseCode.TokenExpired;\n" +
          "console.log(expired);\n",
      );
      await run([Deno.execPath(), "check", "close_codes.ts"], project.dir);
    },
  );
});
