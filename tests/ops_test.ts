import assert from "node:assert/strict";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  assert.ok(line, `no ${series} in /metrics`);
  return Number(line.slice(series.length + 1));
}

Deno.test("GET /healthz", async (t) => {
  await using server = await startServer();

  await t.step(
    "answers 200 with status ok while the store answers",
    async () => {
      const response = await fetch(`${server.origin}/healthz`);
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(body.status, "ok");
      assert.equal(body.store, "ok");
      assert.equal(typeof body.connections, "number");
      assert.equal(typeof body.rooms, "number");
    },
  );

  await t.step(
    "answers 503 with the reason when the store does not",
    async () => {
      await server.chat.store.close();
      const response = await fetch(`${server.origin}/healthz`);
      assert.equal(response.status, 503);
      const body = await response.json();
      assert.equal(body.status, "unavailable");
      assert.match(body.reason, /^store: /);
    },
  );
});

Deno.test("GET /metrics", async (t) => {
  await using server = await startServer({ CHAT_MAX_MESSAGE_CHARS: "5" });
  const room = uniqueRoom();
  await using a = await TestClient.join(server.wsUrl(`/ws/chat/${room}/`));
  await using b = await TestClient.join(server.wsUrl(`/ws/chat/${room}/`));
  a.send({ message: "hi" });
  a.send({ message: "far too long" });
  a.send("{");
  await b.waitForType("message", 1);
  await a.waitForType("error", 2);
  const refused = await fetch(
    `${server.wsUrl(`/ws/chat/${room}/`).replace("ws:", "http:")}`,
    {
      headers: {
        Upgrade: "websocket",
        Connection: "Upgrade",
        Origin: "https://evil.example",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
      },
    },
  );
  await refused.body?.cancel();
  const response = await fetch(`${server.origin}/metrics`);
  const text = await response.text();

  await t.step("is Prometheus text", () => {
    assert.match(
      response.headers.get("content-type") ?? "",
      /^text\/plain; version=0\.0\.4/,
    );
    assert.match(text, /^# HELP chat_connections /m);
    assert.match(text, /^# TYPE chat_messages_received_total counter$/m);
  });

  await t.step("counts connections, rooms and messages", () => {
    assert.equal(sample(text, "chat_connections"), 2);
    assert.equal(sample(text, "chat_rooms"), 1);
    assert.equal(sample(text, "chat_messages_received_total"), 1);
    assert.equal(sample(text, "chat_messages_delivered_total"), 2);
  });

  await t.step("counts rejections and refusals by reason", () => {
    assert.equal(
      sample(text, 'chat_messages_rejected_total{reason="too_long"}'),
      1,
    );
    assert.equal(
      sample(text, 'chat_messages_rejected_total{reason="invalid_json"}'),
      1,
    );
    assert.equal(
      sample(text, 'chat_connections_refused_total{reason="origin"}'),
      1,
    );
  });

  await t.step("measures store latency and the process", () => {
    assert.ok(
      sample(
        text,
        'chat_store_seconds_count{operation="append",outcome="ok"}',
      ) >= 1,
    );
    assert.ok(sample(text, "process_resident_memory_bytes") > 0);
  });
});
