import assert from "node:assert/strict";
import { createChatServer } from "../server/app.ts";
import { isAllowedHost } from "../http/hosts.ts";
import { ConfigError, loadConfig } from "../server/settings.ts";
import { MAX_URL_LENGTH } from "../server/app.ts";
import { rawHead, rawStatus } from "../testkit/raw_socket.ts";
import {
  recordingLogger,
  startServer,
  testConfig,
  uniqueRoom,
} from "../testkit/server.ts";
import { silentLogger } from "../observability/log.ts";

const encoder = new TextEncoder();

/** An upgrade request with the Host and Origin a DNS-rebinding page would send. */
function upgrade(path: string, host: string, origin: string): Uint8Array {
  return encoder.encode(
    [
      `GET ${path} HTTP/1.1`,
      `Host: ${host}`,
      `Origin: ${origin}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version: 13",
      "",
      "",
    ].join("\r\n"),
  );
}

Deno.test("allowed hosts", async (t) => {
  await t.step(
    "default to the listen address, and localhost on loopback",
    () => {
      const env = (values: Record<string, string>) => (name: string) =>
        values[name];
      assert.deepEqual(loadConfig([], env({})).allowedHosts, [
        "127.0.0.1",
        "localhost",
        "::1",
      ]);
      assert.deepEqual(
        loadConfig(["--host", "192.0.2.7"], env({})).allowedHosts,
        ["192.0.2.7"],
      );
      assert.deepEqual(
        loadConfig(
          [],
          env({ CHAT_ALLOWED_HOSTS: "Chat.Example, .example.org" }),
        )
          .allowedHosts,
        ["chat.example", ".example.org"],
      );
    },
  );

  await t.step("are required when listening on every interface", () => {
    for (const host of ["0.0.0.0", "::"]) {
      assert.throws(
        () => loadConfig(["--host", host], () => undefined),
        (error: unknown) =>
          error instanceof ConfigError &&
          /needs CHAT_ALLOWED_HOSTS/.test(error.message),
      );
      assert.deepEqual(
        loadConfig(["--host", host, "--allowed-hosts", "*"], () => undefined)
          .allowedHosts,
        ["*"],
      );
    }
  });

  await t.step("match names, .domains and *", () => {
    const allowed = ["chat.example", ".example.org"];
    assert.ok(isAllowedHost("chat.example", allowed));
    assert.ok(isAllowedHost("CHAT.example.", allowed));
    assert.ok(isAllowedHost("example.org", allowed));
    assert.ok(isAllowedHost("a.b.example.org", allowed));
    assert.ok(!isAllowedHost("evil.example", allowed));
    assert.ok(!isAllowedHost("badexample.org", allowed));
    assert.ok(isAllowedHost("anything", ["*"]));
  });

  await t.step(
    "a page under another Host is 400, naming the host",
    async () => {
      const { app, close } = await createChatServer({
        config: testConfig(),
        log: silentLogger,
      });
      try {
        const refused = await app.request("http://evil.example/chat/");
        assert.equal(refused.status, 400);
        assert.match(
          await refused.text(),
          /This server does not answer to the name evil\.example\./,
        );
        const json = await app.request("http://evil.example/api/rooms");
        assert.equal(json.status, 400);
        assert.match(
          (await json.json()).error,
          /Host not allowed: evil\.example/,
        );
        const served = await app.request("http://localhost/chat/");
        assert.equal(served.status, 200);
        await served.body?.cancel();
        const health = await app.request("http://10.0.0.9/healthz");
        assert.equal(health.status, 200, "health checks come by address");
        await health.body?.cancel();
      } finally {
        await close();
      }
    },
  );
});

Deno.test("DNS rebinding and foreign schemes cannot open a socket", async (t) => {
  await using server = await startServer();
  const port = Number(new URL(server.origin).port);
  const path = `/ws/chat/${uniqueRoom()}/`;

  await t.step("Host: evil.example with a matching Origin is 400", async () => {
    assert.equal(
      await rawStatus(
        port,
        upgrade(path, "evil.example", "http://evil.example"),
      ),
      400,
    );
  });

  await t.step("an https:// Origin for the http:// page is 403", async () => {
    const host = `127.0.0.1:${port}`;
    assert.equal(
      await rawStatus(port, upgrade(path, host, `https://${host}`)),
      403,
    );
    assert.equal(
      await rawStatus(port, upgrade(path, host, `http://${host}`)),
      101,
      "the page's own origin still opens",
    );
  });
});

/** A plain GET of `path` with `host` as its Host header. */
function get(path: string, host: string): Uint8Array {
  return encoder.encode(
    [`GET ${path} HTTP/1.1`, `Host: ${host}`, "", ""].join("\r\n"),
  );
}

Deno.test("a malformed or refused Host, and a URL too long, are refused with the page headers", async (t) => {
  const log = recordingLogger();
  await using server = await startServer({}, { log });
  const port = Number(new URL(server.origin).port);

  for (const host of ["a b", "[::1", "localhost:abc"]) {
    await t.step(`Host: ${host} is 400, page and API alike`, async () => {
      for (
        const path of ["/chat/", "/api/rooms", `/ws/chat/${uniqueRoom()}/`]
      ) {
        const head = await rawHead(port, get(path, host));
        assert.equal(head?.status, 400, `${path} with Host ${host}`);
        assert.match(
          head.headers.get("Content-Security-Policy") ?? "",
          /default-src 'none'/,
          `${path} with Host ${host}`,
        );
      }
      // /healthz answers whatever the Host.
      assert.equal((await rawHead(port, get("/healthz", host)))?.status, 200);
    });
  }

  await t.step("Host: evil.example is 400 with the page headers", async () => {
    const head = await rawHead(port, get("/chat/", "evil.example"));
    assert.equal(head?.status, 400);
    assert.match(
      head.headers.get("Content-Security-Policy") ?? "",
      /default-src 'none'/,
    );
    assert.equal(head.headers.get("X-Frame-Options"), "DENY");
  });

  await t.step(
    "a URL over the limit is 414 with the page headers",
    async () => {
      const path = `/chat/${"a".repeat(MAX_URL_LENGTH)}`;
      const head = await rawHead(port, get(path, `127.0.0.1:${port}`));
      assert.equal(head?.status, 414);
      assert.match(
        head.headers.get("Content-Security-Policy") ?? "",
        /default-src 'none'/,
      );
    },
  );

  await t.step("none of it is logged as an error", () => {
    assert.deepEqual(
      log.events.filter((event) => event.level === "error"),
      [],
    );
  });
});
