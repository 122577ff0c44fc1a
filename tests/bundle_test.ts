import assert from "node:assert/strict";
import {
  type ServerProcess,
  startServerProcess,
  taskFlags,
} from "../testkit/process.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import { uniqueRoom, waitUntil } from "../testkit/server.ts";
import { type Frame, TestClient } from "../testkit/test_client.ts";

const ROOT = new URL("..", import.meta.url);

/** The compile task's `--allow-env=…`: the binary gets exactly this. */
function compileAllowEnv(): string {
  const flag = taskFlags("compile").find((word) =>
    word.startsWith("--allow-env=")
  );
  assert.ok(flag, "the compile task has an --allow-env list");
  return flag;
}

/** Every file of the repository's static/ folder, by name. */
async function staticFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for await (const entry of Deno.readDir(new URL("static/", ROOT))) {
    if (!entry.isFile) continue;
    files.set(
      entry.name,
      await Deno.readTextFile(new URL(`static/${entry.name}`, ROOT)),
    );
  }
  return files;
}

/** The worker that logged `socket.open` for `user`, once it has. */
async function workerOf(server: ServerProcess, user: string): Promise<number> {
  const output = await server.waitForOutput(
    new RegExp(`"event":"socket\\.open".*"user":"${user}"`),
  );
  const line = output.split("\n").find((line) =>
    line.startsWith("{") && line.includes(`"user":"${user}"`) &&
    line.includes(`"event":"socket.open"`)
  );
  const event: unknown = JSON.parse(line ?? "null");
  assert.ok(
    typeof event === "object" && event !== null && "worker" in event &&
      typeof event.worker === "number",
    `socket.open of ${user} names its worker: ${line}`,
  );
  return event.worker;
}

function texts(frames: Frame[]): string[] {
  return frames.map((frame) => String(frame.message));
}

/** Bundles main.ts into the one file `bundle`. */
async function buildBundle(bundle: string): Promise<void> {
  const built = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "-o", bundle, "main.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(
    built.code,
    0,
    `deno bundle failed: ${new TextDecoder().decode(built.stderr)}`,
  );
}

// `deno compile` cannot download its base runtime on this machine, so this
// proves the same property with `deno bundle`: one file, run with no config
// from an empty folder, allowed to read only itself and its data. A worker
// of `--workers N` is that same file started again, so the bundle must be
// readable; in a compiled binary the module is embedded and nothing is read.
Deno.test("the bundled server runs from an empty folder with 2 workers", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "chat-bundle-" });
  const emptyCwd = await Deno.makeTempDir({ prefix: "chat-bundle-cwd-" });
  try {
    const bundle = `${dir}/server.js`;
    const data = `${dir}/data`;
    await Deno.mkdir(data);
    await buildBundle(bundle);

    await using server = await startServerProcess({
      // `env --chdir`: the helper starts everything in the project folder.
      command: "env",
      args: [
        `--chdir=${emptyCwd}`,
        Deno.execPath(),
        "run",
        "--no-config",
        "--unstable-net",
        "--allow-net=127.0.0.1",
        compileAllowEnv(),
        `--allow-read=${bundle},${data}`,
        `--allow-write=${data}`,
        bundle,
        "--workers",
        "2",
        "--db",
        `${data}/chat.db`,
      ],
      // No rate limit: one step writes a few hundred KiB at once.
      env: { LOG_LEVEL: "info", CHAT_RATE_LIMIT: "0" },
    });

    await t.step(
      "it starts with 2 workers and its data where it was told",
      async () => {
        const output = await server.waitForOutput(/^Chat server ready.*$/m);
        assert.deepEqual(
          output.split("\n").filter((line) => line.startsWith("Chat server")),
          [
            `Chat server ready at ${server.origin}/chat/ (2 workers); data in ${data}/chat.db`,
          ],
        );
        assert.ok((await Deno.stat(`${data}/chat.db`)).isFile);
        assert.deepEqual(
          [...Deno.readDirSync(emptyCwd)],
          [],
          "it wrote nothing where it ran",
        );
      },
    );

    await t.step("it serves the index and room pages", async () => {
      const index = await fetch(`${server.origin}/chat/`);
      assert.equal(index.status, 200);
      assert.match(await index.text(), /id="room-name-input"/);
      const room = await fetch(`${server.origin}/chat/lobby/`);
      assert.equal(room.status, 200);
      assert.match(await room.text(), /id="chat-log"/);
    });

    await t.step("it serves every static asset, byte for byte", async () => {
      const files = await staticFiles();
      assert.ok(files.size > 0);
      for (const [name, body] of files) {
        const response = await fetch(`${server.origin}/static/${name}`);
        assert.equal(response.status, 200, name);
        assert.equal(await response.text(), body, name);
      }
      // And every asset the pages ask for is one of them.
      for (const page of ["/chat/", "/chat/lobby/"]) {
        const html = await (await fetch(`${server.origin}${page}`)).text();
        for (const [, name = ""] of html.matchAll(/\/static\/([^"'?#]+)/g)) {
          assert.ok(files.has(name), `${page} asks for ${name}`);
        }
      }
    });

    await t.step("it carries a chat message over a WebSocket", async () => {
      await using client = await TestClient.join(
        server.wsUrl(`/ws/chat/${uniqueRoom()}/`),
      );
      client.send({ message: "bundled" });
      await client.waitForType("message", 1);
      assert.deepEqual(client.messageTexts(), ["bundled"]);
    });

    await t.step(
      "its checkpoint thread starts from the bundle and copies the log into the file",
      async () => {
        await using client = await TestClient.join(
          server.wsUrl(`/ws/chat/${uniqueRoom()}/`),
        );
        const before = (await Deno.stat(`${data}/chat.db`)).size;
        // 200 messages of 2 000 characters: past the 256 KiB after which
        // the thread copies at once, and far below the 1 000 pages after
        // which SQLite would do it in a commit itself.
        for (let i = 0; i < 200; i++) {
          client.send({ message: `${i} `.padEnd(2000, "x") });
        }
        await client.waitForType("message", 200, 10_000);
        await waitUntil(
          async () =>
            (await Deno.stat(`${data}/chat.db`)).size > before + 300 * 1024,
          "the log copied into chat.db",
        );
        assert.doesNotMatch(server.output(), /checkpoints_failing/);
      },
    );

    const room = uniqueRoom("bundle");
    const clients: TestClient[] = [];
    try {
      await t.step(
        "every client gets every message exactly once, across both workers",
        async () => {
          // Each connection lands on a worker chosen by the kernel; join
          // until the socket.open lines show that both workers hold some.
          const workers = new Set<number>();
          for (let i = 0; workers.size < 2; i++) {
            assert.ok(
              i < 40,
              `40 clients all landed on worker ${[...workers]}`,
            );
            const user = `u${i}_${crypto.randomUUID().slice(0, 8)}`;
            clients.push(
              await TestClient.join(
                server.wsUrl(`/ws/chat/${room}/?name=${user}`),
              ),
            );
            workers.add(await workerOf(server, user));
          }
          assert.deepEqual([...workers].sort(), [0, 1]);

          const sent = clients.map((_, i) => `from client ${i}`);
          clients.forEach((client, i) => client.send({ message: sent[i] }));
          // Once the last message has arrived everywhere, every earlier one
          // has too: a duplicate would be counted below.
          const last = "the last message";
          for (const client of clients) {
            await client.waitForType("message", sent.length, 10_000);
          }
          clients[0]?.send({ message: last });
          const expected = [...sent, last].sort();
          let order: number[] | undefined;
          for (const [index, client] of clients.entries()) {
            const frames = await client.waitForMatching(
              (frame) => frame.type === "message" && frame.message === last,
              1,
              10_000,
            ).then(() => client.ofType("message"));
            assert.deepEqual(texts(frames).sort(), expected, `client ${index}`);
            const ids = frames.map((frame) => Number(frame.id));
            order ??= ids;
            assert.deepEqual(ids, order, `client ${index} sees the same order`);
          }
        },
      );

      await t.step(
        "a new client gets the earlier messages in its history",
        async () => {
          await using reader = await TestClient.join(
            server.wsUrl(`/ws/chat/${room}/`),
          );
          const [history] = reader.ofType("history");
          const messages = Array.isArray(history?.messages)
            ? history.messages
            : [];
          const live = clients[0]?.ofType("message") ?? [];
          assert.ok(live.length > 0);
          assert.deepEqual(
            messages.map((m: Frame) => [m.id, m.message]),
            live.map((m) => [m.id, m.message]),
          );
        },
      );
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(emptyCwd, { recursive: true });
  }
});

// The Redis client is loaded only when REDIS_URL is set: the bundle must
// carry it too, and it must live within the binary's permissions (npm:ioredis
// could not: its `debug` dependency reads the whole environment).
Deno.test({
  name:
    "the bundled server shares rooms through Redis with only its permissions",
  ignore: ignoreWithoutRedis,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "chat-bundle-redis-" });
    const emptyCwd = await Deno.makeTempDir({ prefix: "chat-bundle-cwd-" });
    try {
      const bundle = `${dir}/server.js`;
      await buildBundle(bundle);
      await using redis = await startRedis({ password: "bundle-secret" });
      await using server = await startServerProcess({
        command: "env",
        args: [
          `--chdir=${emptyCwd}`,
          Deno.execPath(),
          "run",
          "--no-config",
          "--unstable-net",
          "--allow-net=127.0.0.1",
          compileAllowEnv(),
          `--allow-read=${bundle}`,
          bundle,
        ],
        env: { REDIS_URL: redis.url },
      });
      const output = await server.waitForOutput(/^Chat server ready.*$/m);
      assert.match(
        output,
        new RegExp(
          `data in Redis at redis://127\\.0\\.0\\.1:${redis.port}/0`,
        ),
      );
      assert.ok(!output.includes("bundle-secret"));
      await using client = await TestClient.join(
        server.wsUrl(`/ws/chat/${uniqueRoom()}/`),
      );
      client.send({ message: "through redis" });
      await client.waitForType("message", 1);
      assert.deepEqual(client.messageTexts(), ["through redis"]);
      assert.deepEqual([...Deno.readDirSync(emptyCwd)], []);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(emptyCwd, { recursive: true });
    }
  },
});
