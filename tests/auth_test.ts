import assert from "node:assert/strict";
import { type JWTPayload, SignJWT } from "jose";
import { CloseCode } from "../client/protocol.js";
import { UPGRADE_HEADERS } from "../testkit/server.ts";
import { recordingLogger, startServer, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

const SECRET = "site-and-chat-share-this-32-byte-secret";
const API_KEY = "backend-key-0123456789abcdef0123";

function token(claims: JWTPayload): Promise<string> {
  return new SignJWT({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(SECRET));
}

/** The status of an upgrade request to `path`, refused before the upgrade. */
async function upgradeStatus(origin: string, path: string) {
  const response = await fetch(`${origin}${path}`, {
    headers: { ...UPGRADE_HEADERS, Origin: origin },
  });
  const body = await response.json();
  return { status: response.status, error: String(body.error) };
}

Deno.test("signed identities, required", async (t) => {
  const log = recordingLogger();
  await using server = await startServer(
    { CHAT_AUTH: "required", CHAT_AUTH_SECRET: SECRET, CHAT_API_KEY: API_KEY },
    { log },
  );
  const room = uniqueRoom("private");

  await t.step(
    "no token, or a bad one, is 401 before the upgrade",
    async () => {
      const none = await upgradeStatus(server.origin, `/ws/chat/${room}/`);
      assert.equal(none.status, 401);
      assert.match(none.error, /needs a signed token/);
      const forged = await new SignJWT({ sub: "x", exp: 9_999_999_999 })
        .setProtectedHeader({ alg: "HS256" })
        .sign(new TextEncoder().encode("not-the-secret-but-32-bytes-long!!"));
      const bad = await upgradeStatus(
        server.origin,
        `/ws/chat/${room}/?token=${forged}`,
      );
      assert.equal(bad.status, 401);
      assert.match(bad.error, /signature/);
      const lines = JSON.stringify(log.events);
      assert.match(lines, /Token refused/);
      assert.ok(!lines.includes(forged), "a token reached the log");
    },
  );

  await t.step("a token for other rooms is 403", async () => {
    const other = await token({ sub: "u1", rooms: ["elsewhere"] });
    const refused = await upgradeStatus(
      server.origin,
      `/ws/chat/${room}/?token=${other}`,
    );
    assert.equal(refused.status, 403);
    assert.match(refused.error, /does not allow the room/);
  });

  await t.step(
    "a plain GET gets the refusal an upgrade would get, and 426 once every check passes",
    async () => {
      const plain = (query: string) =>
        fetch(`${server.origin}/ws/chat/${room}/${query}`).then(async (r) => ({
          status: r.status,
          error: String((await r.json()).error),
        }));
      const none = await plain("");
      assert.deepEqual(none.status, 401);
      assert.match(none.error, /needs a signed token/);
      const other = await token({ sub: "u1", rooms: ["elsewhere"] });
      assert.equal((await plain(`?token=${other}`)).status, 403);
      const good = await token({ sub: "u1", rooms: [room] });
      const accepted = await plain(`?token=${good}`);
      assert.equal(accepted.status, 426);
      assert.match(accepted.error, /WebSocket only/);
    },
  );

  await t.step(
    "the name is the token's, ?name= is ignored, and frames say verified",
    async () => {
      const signed = await token({ sub: "u-42", name: "Alice", rooms: [room] });
      await using alice = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?token=${signed}&name=admin`),
      );
      const [presence] = alice.ofType("presence");
      assert.equal(presence?.you, "Alice");
      assert.deepEqual(presence?.users, [
        { name: "Alice", connections: 1, verified: true },
      ]);
      alice.send({ message: "signed hello" });
      const [message] = await alice.waitForType("message", 1);
      assert.equal(message?.user, "Alice");
      assert.equal(message?.verified, true);
    },
  );

  await t.step(
    "the API shows a private room only to callers allowed in it",
    async () => {
      const hidden = uniqueRoom("hidden");
      const inRoom = await token({ sub: "u-9", rooms: [room] });
      await using member = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?token=${inRoom}`),
      );
      const other = await token({ sub: "u-8", rooms: [hidden] });
      await using elsewhere = await TestClient.join(
        server.wsUrl(`/ws/chat/${hidden}/?token=${other}`),
      );
      const get = async (path: string, headers: Record<string, string>) => {
        const response = await fetch(`${server.origin}${path}`, { headers });
        return { status: response.status, body: await response.json() };
      };
      const bearer = (value: string) => ({ Authorization: `Bearer ${value}` });
      assert.equal((await get("/api/rooms", {})).status, 401);
      const names = (body: { rooms: { name: string }[] }) =>
        body.rooms.map(({ name }) => name).sort();
      assert.deepEqual(names((await get("/api/rooms", bearer(inRoom))).body), [
        room,
      ]);
      assert.deepEqual(
        names((await get("/api/rooms", bearer(API_KEY))).body),
        [hidden, room].sort(),
      );
      assert.equal(
        (await get(`/api/rooms/${hidden}/messages`, bearer(inRoom))).status,
        403,
      );
      assert.equal(
        (await get(`/api/rooms/${room}/messages?token=${inRoom}`, {})).status,
        200,
      );
      assert.equal(
        (await get(`/api/rooms/${hidden}/presence`, bearer(API_KEY))).status,
        200,
      );
      assert.equal(member.socket.readyState, WebSocket.OPEN);
      assert.equal(elsewhere.socket.readyState, WebSocket.OPEN);
    },
  );

  await t.step("a socket is closed at its token's exp", async () => {
    const soon = await token({
      sub: "u-7",
      exp: Math.floor(Date.now() / 1000) + 1,
    });
    await using brief = await TestClient.join(
      server.wsUrl(`/ws/chat/${room}/?token=${soon}`),
    );
    const closed = await brief.closed;
    assert.equal(closed.code, CloseCode.TokenExpired);
  });

  await t.step(
    "a token whose exp is a year ahead keeps its socket open",
    async () => {
      const yearLong = await token({
        sub: "u-8",
        exp: Math.floor(Date.now() / 1000) + 365 * 24 * 60 * 60,
      });
      await using long = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?token=${yearLong}`),
      );
      // An expiry timer past setTimeout's 24.8 days fires at once; the join
      // below reaches this socket only at the end of a presence window.
      await using _later = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?token=${await token({ sub: "u-9" })}`),
      );
      await long.waitForMatching(
        (frame) =>
          frame.type === "join" &&
          JSON.stringify(frame.user).includes('"u-9"'),
        1,
      );
      assert.equal(long.socket.readyState, WebSocket.OPEN);
    },
  );
});

Deno.test("signed identities, optional", async (t) => {
  await using server = await startServer({
    CHAT_AUTH: "optional",
    CHAT_AUTH_SECRET: SECRET,
  });
  const room = uniqueRoom("mixed");

  await t.step("guests are admitted and marked unverified", async () => {
    await using guest = await TestClient.join(
      server.wsUrl(`/ws/chat/${room}/?name=visitor`),
    );
    guest.send({ message: "guest hello" });
    const [message] = await guest.waitForType("message", 1);
    assert.equal(message?.verified, false);
  });

  await t.step("a guest cannot take a signed user's name", async () => {
    const signed = await token({ sub: "u-1", name: "carol" });
    await using carol = await TestClient.join(
      server.wsUrl(`/ws/chat/${room}/?token=${signed}`),
    );
    const impostor = await TestClient.connect(
      server.wsUrl(`/ws/chat/${room}/?name=carol`),
    );
    const closed = await impostor.closed;
    assert.equal(closed.code, CloseCode.NameTaken);
    assert.equal(carol.socket.readyState, WebSocket.OPEN);
  });

  await t.step(
    "a guest cannot take a name that looks like a signed user's, nor add a badge to it",
    async () => {
      const room = uniqueRoom("lookalike");
      const signed = await token({ sub: "u-2", name: "Alice" });
      await using alice = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?token=${signed}`),
      );
      for (const name of ["alice", "ALICE", "AIice", "Alice."]) {
        const impostor = await TestClient.connect(
          server.wsUrl(`/ws/chat/${room}/?name=${encodeURIComponent(name)}`),
        );
        assert.equal((await impostor.closed).code, CloseCode.NameTaken, name);
      }
      const badged = await upgradeStatus(
        server.origin,
        `/ws/chat/${room}/?name=${encodeURIComponent("Alice \u2713")}`,
      );
      assert.equal(badged.status, 400);
      assert.match(badged.error, /imitates the mark of a verified user/);
      assert.equal(alice.socket.readyState, WebSocket.OPEN);
    },
  );

  await t.step(
    "a signed user whose look-alike a guest holds is refused like anyone",
    async () => {
      const room = uniqueRoom("first-holds");
      await using guest = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=bob&key=guest-browser-key-000`),
      );
      const signed = await token({ sub: "u-3", name: "Bob" });
      const late = await TestClient.connect(
        server.wsUrl(`/ws/chat/${room}/?token=${signed}`),
      );
      assert.equal((await late.closed).code, CloseCode.NameTaken);
      assert.equal(guest.socket.readyState, WebSocket.OPEN);
    },
  );
});

Deno.test("with CHAT_AUTH off a token is ignored", async () => {
  await using server = await startServer();
  await using client = await TestClient.join(
    server.wsUrl(`/ws/chat/${uniqueRoom()}/?token=garbage&name=dave`),
  );
  assert.equal(client.ofType("presence")[0]?.you, "dave");
});
