import assert from "node:assert/strict";
import {
  SIGN_IN_FAILURES,
  SIGN_IN_WINDOW_MS,
  SignInLimit,
} from "../http/admin_sign_in_limit.ts";
import { createChatServer } from "../server/app.ts";
import { ADMIN_TEST_KEY, postForm } from "../testkit/admin.ts";
import {
  type DisposableChatServer,
  recordingLogger,
  testConfig,
} from "../testkit/server.ts";
import { OPTIONAL_SIGN_IN, signedToken } from "../testkit/tokens.ts";

const WRONG_KEY = "not-the-key-0123456789abcdef";

/** What `Deno.serve` tells the handler about a peer at `hostname`. */
function from(hostname: string) {
  return { remoteAddr: { hostname } };
}

/** A console on a clock the test moves, with its log kept. */
async function consoleOnClock(env: Record<string, string>) {
  const clock = { ms: 1_000_000 };
  const log = recordingLogger();
  const chat = await createChatServer({
    config: testConfig(env),
    log,
    consoleNow: () => clock.ms,
  });
  const server: DisposableChatServer = {
    ...chat,
    [Symbol.asyncDispose]: () => chat.close(),
  };
  return { server, clock, log };
}

/** POSTs `form` to the sign-in as the client at `hostname`. */
async function signIn(
  server: DisposableChatServer,
  form: Record<string, string>,
  hostname: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return await postForm(
    server,
    "/admin/session",
    form,
    { Origin: "http://localhost", ...headers },
    undefined,
    from(hostname),
  );
}

/** Fails `count` sign-ins with a wrong key from `hostname`; their statuses. */
async function failKeys(
  server: DisposableChatServer,
  hostname: string,
  count: number,
  headers: Record<string, string> = {},
): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await signIn(
      server,
      { key: WRONG_KEY },
      hostname,
      headers,
    );
    statuses.push(response.status);
    await response.body?.cancel();
  }
  return statuses;
}

Deno.test("failed sign-ins to the console lock out their address for a while", async (t) => {
  const { server, clock, log } = await consoleOnClock({
    CHAT_API_KEY: ADMIN_TEST_KEY,
  });
  await using _server = server;

  await t.step(
    `${SIGN_IN_FAILURES} wrong keys answer 401, the next 429 with Retry-After`,
    async () => {
      const statuses = await failKeys(server, "127.0.0.2", SIGN_IN_FAILURES);
      assert.deepEqual(statuses, Array(SIGN_IN_FAILURES).fill(401));
      const refused = await signIn(server, { key: WRONG_KEY }, "127.0.0.2");
      assert.equal(refused.status, 429);
      const wait = Number(refused.headers.get("retry-after"));
      const perFailure = SIGN_IN_WINDOW_MS / SIGN_IN_FAILURES / 1000;
      assert.ok(wait >= 1 && wait <= perFailure, `Retry-After ${wait}`);
      assert.equal(refused.headers.get("set-cookie"), null);
      assert.match(
        await refused.text(),
        new RegExp(
          `Too many failed sign-ins from your address\\. Try again in ${wait} s`,
        ),
      );
    },
  );

  await t.step("the right key is refused too while locked out", async () => {
    const response = await signIn(server, { key: ADMIN_TEST_KEY }, "127.0.0.2");
    assert.equal(response.status, 429);
    assert.equal(response.headers.get("set-cookie"), null);
    await response.body?.cancel();
  });

  await t.step("the lock-out is logged once, without the key", () => {
    const locked = log.events.filter((e) => e.event === "admin.sign_in_locked");
    assert.equal(locked.length, 1);
    assert.equal(locked[0]?.ip, "127.0.0.2");
    assert.equal(locked[0]?.failures, SIGN_IN_FAILURES);
    const refused = log.events.filter((e) =>
      e.event === "admin.sign_in_refused"
    );
    assert.equal(refused.length, SIGN_IN_FAILURES, "429s are not logged");
    const text = JSON.stringify(log.events);
    assert.ok(!text.includes(WRONG_KEY) && !text.includes(ADMIN_TEST_KEY));
  });

  await t.step("another address signs in as before", async () => {
    const response = await signIn(server, { key: ADMIN_TEST_KEY }, "127.0.0.3");
    assert.equal(response.status, 303);
    assert.ok(response.headers.get("set-cookie"));
  });

  await t.step(
    "successful sign-ins are not counted against an address",
    async () => {
      for (let i = 0; i < SIGN_IN_FAILURES * 2; i++) {
        const ok = await signIn(server, { key: ADMIN_TEST_KEY }, "127.0.0.4");
        assert.equal(ok.status, 303);
      }
      const statuses = await failKeys(server, "127.0.0.4", SIGN_IN_FAILURES);
      assert.deepEqual(statuses, Array(SIGN_IN_FAILURES).fill(401));
    },
  );

  await t.step("after the window the address may sign in again", async () => {
    clock.ms += SIGN_IN_WINDOW_MS;
    const response = await signIn(server, { key: ADMIN_TEST_KEY }, "127.0.0.2");
    assert.equal(response.status, 303);
    assert.ok(response.headers.get("set-cookie"));
  });
});

Deno.test("the sign-in limit keys on the client behind a trusted proxy", async (t) => {
  const { server } = await consoleOnClock({
    CHAT_API_KEY: ADMIN_TEST_KEY,
    CHAT_TRUSTED_PROXIES: "127.0.0.1",
  });
  await using _server = server;

  await t.step(
    "one client locked out behind the proxy leaves the others in",
    async () => {
      const guesser = { "X-Forwarded-For": "192.0.2.10" };
      const statuses = await failKeys(
        server,
        "127.0.0.1",
        SIGN_IN_FAILURES + 1,
        guesser,
      );
      assert.equal(statuses.at(-1), 429);
      const other = await signIn(server, { key: ADMIN_TEST_KEY }, "127.0.0.1", {
        "X-Forwarded-For": "192.0.2.11",
      });
      assert.equal(other.status, 303);
    },
  );

  await t.step(
    "a client that is no proxy cannot pick a new address to escape",
    async () => {
      const statuses = await failKeys(
        server,
        "127.0.0.5",
        SIGN_IN_FAILURES,
        { "X-Forwarded-For": "192.0.2.20" },
      );
      assert.deepEqual(statuses, Array(SIGN_IN_FAILURES).fill(401));
      const escape = await signIn(
        server,
        { key: ADMIN_TEST_KEY },
        "127.0.0.5",
        {
          "X-Forwarded-For": "192.0.2.21",
        },
      );
      assert.equal(escape.status, 429);
      await escape.body?.cancel();
    },
  );
});

Deno.test("failed token sign-ins count too, and the lock-out answers JSON", async () => {
  const { server } = await consoleOnClock(OPTIONAL_SIGN_IN);
  await using _server = server;
  const plain = await signedToken({ sub: "u-mo", name: "Mo" });
  for (let i = 0; i < SIGN_IN_FAILURES; i++) {
    const response = await signIn(server, { token: plain }, "127.0.0.6");
    assert.equal(response.status, 401);
    await response.body?.cancel();
  }
  const admin = await signedToken({ sub: "u-ada", name: "Ada", role: "admin" });
  const refused = await signIn(server, { token: admin }, "127.0.0.6");
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get("retry-after")) >= 1);
  assert.match((await refused.json()).error, /too many failed sign-ins/);
});

Deno.test("the sign-in limit forgets addresses once their window has passed", () => {
  let now = 0;
  const limit = new SignInLimit({ now: () => now });
  for (let i = 0; i < 1000; i++) limit.fail(`198.51.100.${i % 250}-${i}`);
  assert.equal(limit.size, 1000);
  now += SIGN_IN_WINDOW_MS;
  limit.fail("203.0.113.1");
  assert.equal(limit.size, 1, "only the address that failed since");
  assert.equal(limit.retryAfterSeconds("198.51.100.1-1"), 0);
});
