import assert from "node:assert/strict";
import { startServerProcess } from "./helpers/process.ts";
import { TestClient, uniqueRoom } from "./helpers/server.ts";

// `deno compile` cannot fetch its runtime here, so this proves the same
// property another way: the bundled app serves pages, assets and sockets
// with no read permission, so nothing is read from disk at run time.
Deno.test("the bundled server runs with no read permission", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "chat-bundle-" });
  try {
    const bundle = `${dir}/server.js`;
    const built = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "-o", bundle, "main.ts"],
      cwd: new URL("..", import.meta.url),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(
      built.code,
      0,
      `deno bundle failed: ${new TextDecoder().decode(built.stderr)}`,
    );

    await using server = await startServerProcess({
      args: [
        "serve",
        "--no-config",
        "--deny-read",
        "--allow-net=127.0.0.1",
        "--allow-env",
        bundle,
      ],
      env: { LOG_LEVEL: "warn", CHAT_DB: ":memory:" },
    });

    await t.step("serves the pages", async () => {
      const index = await fetch(`${server.origin}/chat/`);
      assert.equal(index.status, 200);
      assert.match(await index.text(), /id="room-name-input"/);
      const room = await fetch(`${server.origin}/chat/lobby/`);
      assert.match(await room.text(), /id="chat-log"/);
    });

    await t.step("serves every static asset", async () => {
      for (const file of ["index.js", "room.js", "style.css"]) {
        const response = await fetch(`${server.origin}/static/${file}`);
        assert.equal(response.status, 200, file);
        assert.ok((await response.text()).length > 100, file);
      }
    });

    await t.step("carries a chat message", async () => {
      await using client = await TestClient.join(
        server.wsUrl(`/ws/chat/${uniqueRoom()}/`),
      );
      client.send({ message: "bundled" });
      await client.waitForType("message", 1);
      assert.deepEqual(client.messageTexts(), ["bundled"]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
