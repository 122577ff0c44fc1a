import assert from "node:assert/strict";
import { listenersOn } from "../testkit/listeners.ts";
import { freePort, SERVER } from "../testkit/process.ts";
import {
  announced,
  assertOneLine,
  runToExit,
  Spawned,
} from "../testkit/cli.ts";

Deno.test("the server listens only where --host or HOST says", async (t) => {
  const cases = [
    {
      name: "HOST=localhost listens on loopback alone",
      args: ["--db", ":memory:"],
      env: { HOST: "localhost", PORT: "0" },
      expected: (address: string) =>
        assert.ok(["127.0.0.1", "::1"].includes(address), address),
    },
    {
      name: "--host ::1 listens on ::1 alone",
      args: ["--host", "::1", "--port", "0", "--db", ":memory:"],
      env: { HOST: "0.0.0.0" },
      expected: (address: string) => assert.equal(address, "::1"),
    },
  ];
  for (const { name, args, env, expected } of cases) {
    await t.step(name, async () => {
      await using server = new Spawned(Deno.execPath(), SERVER.run(...args), {
        LOG_LEVEL: "warn",
        ...env,
      });
      const { address, port } = await announced(server);
      expected(address);
      const family = address.includes(":") ? "ipv6" : "ipv4";
      assert.deepEqual(await listenersOn(port), [{ address, port, family }]);
      const url = family === "ipv6"
        ? `http://[${address}]:${port}/chat/`
        : `http://${address}:${port}/chat/`;
      const page = await fetch(url);
      await page.body?.cancel();
      assert.equal(page.status, 200);
      assert.equal((await server.stop()).code, 0, server.output());
    });
  }
});

Deno.test("a port or address that cannot be bound is one line and exit 1", async (t) => {
  for (const mode of [[], ["--workers", "2"]]) {
    await t.step(
      `a busy port names the port and how to choose another${
        mode.length ? " (--workers 2)" : ""
      }`,
      async () => {
        using held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const port = String(held.addr.port);
        // Workers share a database file; :memory: is refused for them.
        const dir = await Deno.makeTempDir({ prefix: "chat-cli-busy-" });
        await using _removeDir = {
          [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
        };
        const run = await runToExit(
          SERVER.run("--port", port, "--db", `${dir}/chat.db`, ...mode),
          { HOST: "127.0.0.1" },
        );
        assertOneLine(
          run,
          1,
          `port ${port} on 127.0.0.1 is already in use`,
          "--port or PORT",
        );
      },
    );
  }

  await t.step("an address not of this machine is named", async () => {
    const run = await runToExit(
      SERVER.run("--host", "10.255.255.1", "--port", "0", "--db", ":memory:"),
    );
    assertOneLine(
      run,
      1,
      "10.255.255.1 is not an address of this machine",
      "--host or HOST",
    );
  });

  for (const mode of [[], ["--workers", "2"]]) {
    await t.step(
      `an unreachable Redis is named, without its password${
        mode.length ? " (--workers 2)" : ""
      }`,
      async () => {
        const port = freePort();
        const run = await runToExit(
          SERVER.run("--port", "0", ...mode),
          { REDIS_URL: `redis://:hunter2@127.0.0.1:${port}/4` },
        );
        assertOneLine(
          run,
          1,
          `Redis at redis://127.0.0.1:${port}/4 is unreachable`,
        );
        assert.ok(!run.stderr.includes("hunter2"));
      },
    );
  }

  await t.step("a host name that does not resolve is named", async () => {
    const run = await runToExit(
      SERVER.run(
        "--host",
        "no-such-host.invalid",
        "--port",
        "0",
        "--db",
        ":memory:",
      ),
    );
    assertOneLine(
      run,
      1,
      "cannot resolve the host name no-such-host.invalid",
      "--host or HOST",
    );
  });
});
