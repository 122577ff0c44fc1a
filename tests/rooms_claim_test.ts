/**
 * What a token's `rooms` claim does in each `CHAT_AUTH` mode, as
 * docs/integration.md says: it always limits where its holder may go; only
 * `required` makes the rooms private (guests out, the messages API behind a
 * token).
 *
 * @module
 */

import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { UPGRADE_HEADERS } from "../testkit/server.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

const SECRET = "site-and-chat-share-this-32-byte-secret";

function token(sub: string, rooms: string[]): Promise<string> {
  return new SignJWT({ rooms, exp: Math.floor(Date.now() / 1000) + 3600 })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .sign(new TextEncoder().encode(SECRET));
}

/** The status of an upgrade to `path`, refused or not, without a socket. */
async function upgradeStatus(origin: string, path: string): Promise<number> {
  const response = await fetch(`${origin}${path}`, {
    headers: { ...UPGRADE_HEADERS, Origin: origin },
  });
  await response.body?.cancel();
  return response.status;
}

/** The status of the messages API for `room`, with no token. */
async function messagesStatus(origin: string, room: string): Promise<number> {
  const response = await fetch(`${origin}/api/rooms/${room}/messages`);
  await response.body?.cancel();
  return response.status;
}

Deno.test("with CHAT_AUTH=optional a rooms claim limits its holder but leaves the room open", async (t) => {
  await using server = await startServer({
    CHAT_AUTH: "optional",
    CHAT_AUTH_SECRET: SECRET,
  });
  const room = uniqueRoom("team");
  const member = await token("u-1", [room]);
  await using alice = await TestClient.join(
    server.wsUrl(`/ws/chat/${room}/?token=${member}`),
  );
  alice.send({ message: "for the team" });
  await alice.waitForType("message", 1);

  await t.step("its holder is refused elsewhere with 403", async () => {
    const elsewhere = uniqueRoom("elsewhere");
    assert.equal(
      await upgradeStatus(
        server.origin,
        `/ws/chat/${elsewhere}/?token=${member}`,
      ),
      403,
    );
  });

  await t.step("a guest joins the room and reads its history", async () => {
    await using guest = await TestClient.join(
      server.wsUrl(`/ws/chat/${room}/?name=visitor`),
    );
    const [history] = guest.ofType("history");
    assert.match(JSON.stringify(history?.messages), /for the team/);
  });

  await t.step("the messages API answers anyone", async () => {
    assert.equal(await messagesStatus(server.origin, room), 200);
  });
});

Deno.test("with CHAT_AUTH=required rooms are private to the tokens that allow them", async (t) => {
  await using server = await startServer({
    CHAT_AUTH: "required",
    CHAT_AUTH_SECRET: SECRET,
  });
  const room = uniqueRoom("team");
  const member = await token("u-1", [room]);
  await using alice = await TestClient.join(
    server.wsUrl(`/ws/chat/${room}/?token=${member}`),
  );
  assert.equal(alice.socket.readyState, WebSocket.OPEN);

  await t.step("a guest is refused with 401", async () => {
    assert.equal(
      await upgradeStatus(server.origin, `/ws/chat/${room}/?name=visitor`),
      401,
    );
  });

  await t.step("a token for other rooms is refused with 403", async () => {
    const outsider = await token("u-2", [uniqueRoom("elsewhere")]);
    assert.equal(
      await upgradeStatus(server.origin, `/ws/chat/${room}/?token=${outsider}`),
      403,
    );
  });

  await t.step(
    "the messages API wants a token that allows the room",
    async () => {
      assert.equal(await messagesStatus(server.origin, room), 401);
      const allowed = await fetch(
        `${server.origin}/api/rooms/${room}/messages`,
        {
          headers: { Authorization: `Bearer ${member}` },
        },
      );
      await allowed.body?.cancel();
      assert.equal(allowed.status, 200);
    },
  );
});
