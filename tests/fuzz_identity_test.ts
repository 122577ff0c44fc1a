/**
 * Property-based fuzzing (fast-check) of what signed identities and the
 * server API add: random and mangled tokens on the upgrade, random calls of
 * the server API with and without its key. Every answer is below 500, a
 * refused token is 401 or 403, the server logs no error, and the messages
 * stored before are all still there.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { SignJWT } from "jose";
import {
  recordingLogger,
  startServer,
  storedMessages,
  uniqueRoom,
  UPGRADE_HEADERS,
} from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

const SECRET = "fuzzing-secret-that-is-32-bytes-long";
const KEY = "fuzzing-api-key-0123456789abcdef";

Deno.test("fuzzing tokens and the server API", async (t) => {
  const log = recordingLogger();
  await using server = await startServer({
    CHAT_AUTH: "optional",
    CHAT_AUTH_SECRET: SECRET,
    CHAT_API_KEY: KEY,
    CHAT_RATE_LIMIT: "0",
    CHAT_CONNECT_RATE: "0",
  }, { log });
  const anchorRoom = uniqueRoom("anchor");
  {
    await using writer = await TestClient.join(
      server.wsUrl(`/ws/chat/${anchorRoom}/`),
    );
    for (let i = 0; i < 10; i++) writer.send({ message: `kept ${i}` });
    await writer.waitForType("message", 10);
  }
  const valid = await new SignJWT({ sub: "fuzz", name: "Fuzzer" })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(SECRET));

  await t.step(
    "random and mangled tokens are 401 or 403, never 5xx",
    async () => {
      const mangled = fc.tuple(fc.nat(valid.length - 1), fc.string()).map((
        [at, text],
      ) => valid.slice(0, at) + text + valid.slice(at + 1));
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.string(), fc.base64String(), mangled),
          async (token) => {
            const response = await fetch(
              server.wsUrl(`/ws/chat/fuzz/?token=${encodeURIComponent(token)}`)
                .replace("ws:", "http:"),
              { headers: { ...UPGRADE_HEADERS, Origin: server.origin } },
            );
            await response.body?.cancel();
            if (response.status === 101) return; // the mangling kept it valid
            assert.ok(
              response.status === 401 || response.status === 403 ||
                response.status === 400,
              `${response.status} for ${JSON.stringify(token)}`,
            );
          },
        ),
        { numRuns: 200 },
      );
    },
  );

  await t.step("random server API calls answer below 500", async () => {
    const room = fc.stringMatching(/^[a-z0-9_.-]{1,12}$/).map((r) => `fz${r}`);
    const body = fc.oneof(
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc.string(),
      fc.record({ user: fc.string(), message: fc.string() }).map((value) =>
        JSON.stringify(value)
      ),
    );
    const path = fc.oneof(
      room.map((r) => `/api/rooms/${r}/messages`),
      fc.tuple(room, fc.string()).map(([r, id]) =>
        `/api/rooms/${r}/messages/${encodeURIComponent(id)}`
      ),
      room.map((r) => `/api/rooms/${r}/disconnect`),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("POST", "DELETE", "PUT"),
        path,
        body,
        fc.constantFrom(`Bearer ${KEY}`, "Bearer wrong", ""),
        async (method, target, text, authorization) => {
          const response = await fetch(`${server.origin}${target}`, {
            method,
            headers: {
              "Content-Type": "application/json",
              ...(authorization ? { Authorization: authorization } : {}),
            },
            ...(method === "DELETE" ? {} : { body: text }),
          });
          await response.body?.cancel();
          assert.ok(
            response.status < 500,
            `${response.status} for ${method} ${target} ${text.slice(0, 80)}`,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  await t.step(
    "no stored message is gone, and no error was logged",
    async () => {
      assert.deepEqual(
        (await storedMessages(server, anchorRoom)).map((m) => m.message),
        Array.from({ length: 10 }, (_, i) => `kept ${i}`),
      );
      const errors = log.events.filter((event) => event.level === "error");
      assert.deepEqual(errors, []);
      const lines = JSON.stringify(log.events);
      assert.match(lines, /Token refused/);
      assert.match(lines, /api\.unauthorised/);
      assert.ok(!lines.includes(KEY) && !lines.includes(valid));
    },
  );
});
