import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { Webhook } from "standardwebhooks";
import {
  DEFAULT_REJECT_REASON,
  MAX_REJECT_REASON_CHARS,
  parseVerdict,
} from "../adapters/webhooks/publish_hook.ts";
import { parseStrict, valueOf } from "../testkit/exposition.ts";
import {
  type Frame,
  recordingLogger,
  startServer,
  storedMessages,
  TestClient,
  type TestServer,
  uniqueRoom,
  waitUntil,
} from "../testkit/server.ts";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const AUTH_SECRET = "site-and-chat-share-this-32-byte-secret";
const API_KEY = "backend-key-0123456789abcdef0123";

/** One request the hook received. */
interface HookCall {
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly payload: {
    type: string;
    id: string;
    room: string;
    ts: string;
    data: Record<string, unknown>;
  };
}

/** What the hook answers a call with. */
type Answer = (call: HookCall) => Response | Promise<Response>;

/**
 * The site's publish hook, on a loopback port: records each request and
 * answers as the test says. Answers held back by a test are released when
 * it is disposed, so that no request outlives it.
 */
class HookReceiver implements AsyncDisposable {
  readonly calls: HookCall[] = [];
  answer: Answer = () => Response.json({ action: "allow" });
  readonly #released = Promise.withResolvers<void>();
  readonly #controller = new AbortController();
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  #waiters: (() => void)[] = [];

  constructor() {
    this.#server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      signal: this.#controller.signal,
      onListen: () => {},
    }, async (request) => {
      const body = await request.text();
      const call: HookCall = {
        body,
        headers: Object.fromEntries(request.headers),
        payload: JSON.parse(body),
      };
      this.calls.push(call);
      for (const wake of this.#waiters.splice(0)) wake();
      return await this.answer(call);
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}/hook`;
  }

  /** An answer that waits until the test ends: a hook that never answers. */
  readonly never: Answer = async () => {
    await this.#released.promise;
    return Response.json({ action: "allow" });
  };

  /** Waits until `count` requests have arrived. */
  async waitForCalls(count: number): Promise<void> {
    while (this.calls.length < count) {
      const woken = Promise.withResolvers<void>();
      this.#waiters.push(woken.resolve);
      await woken.promise;
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#released.resolve();
    this.#controller.abort();
    await this.#server.finished;
  }
}

/** A chat server whose publish hook is `hook`, with extra `env`. */
function serverWithHook(
  hook: HookReceiver,
  env: Record<string, string> = {},
  log = recordingLogger(),
): Promise<TestServer> {
  return startServer({
    CHAT_PUBLISH_HOOK_URL: hook.url,
    CHAT_WEBHOOK_SECRET: SECRET,
    CHAT_RATE_LIMIT: "0",
    ...env,
  }, { log });
}

/** Two members of a room: the one who writes and one who reads. */
interface Pair extends AsyncDisposable {
  readonly sender: TestClient;
  readonly reader: TestClient;
}

/** Joins `ana` (the sender) and then `bo` (the reader) to `room`. */
async function pair(server: TestServer, room: string): Promise<Pair> {
  const url = server.wsUrl(`/ws/chat/${room}/`);
  const sender = await TestClient.join(`${url}?name=ana`);
  const reader = await TestClient.join(`${url}?name=bo`);
  return {
    sender,
    reader,
    async [Symbol.asyncDispose]() {
      await Promise.all([sender.close(), reader.close()]);
    },
  };
}

/** The value of a publish hook histogram `_count` for `outcome`. */
async function hookCalls(server: TestServer, outcome: string) {
  const text = await (await fetch(`${server.origin}/metrics`)).text();
  return valueOf(parseStrict(text), "chat_publish_hook_seconds_count", {
    outcome,
  }) ?? 0;
}

/** Failed hook calls, from a server's metrics (closed or not). */
async function failedCalls(server: TestServer): Promise<number> {
  const series = (await server.chat.metricsSnapshot()).find((s) =>
    s.name === "chat_publish_hook_seconds"
  );
  return series?.samples.find((s) =>
    s.suffix === "_count" && s.labels.outcome === "failed"
  )?.value ?? 0;
}

const byText = (text: string) => (frame: Frame) => frame.message === text;

Deno.test("publish hook", async (t) => {
  await using hook = new HookReceiver();
  await using server = await serverWithHook(hook, { CHAT_API_KEY: API_KEY });

  await t.step(
    "an allowed message is stored and delivered, after a signed question",
    async () => {
      const room = uniqueRoom("allow");
      await using members = await pair(server, room);
      hook.answer = () => Response.json({ action: "allow" });
      const before = hook.calls.length;
      members.sender.send({ type: "message", message: "hello", cid: "c-1" });
      const [mine] = await members.sender.waitForType("message", 1);
      await members.reader.waitForMatching(byText("hello"), 1);
      assert.equal(mine?.cid, "c-1");
      const call = hook.calls[before];
      assert.ok(call);
      assert.deepEqual(
        new Webhook(SECRET).verify(call.body, call.headers),
        call.payload,
      );
      assert.equal(call.payload.type, "message.publish");
      assert.equal(call.payload.room, room);
      assert.equal(call.headers["webhook-id"], call.payload.id);
      assert.deepEqual(call.payload.data, {
        user: "ana",
        verified: false,
        message: "hello",
        cid: "c-1",
      });
      assert.deepEqual(
        (await storedMessages(server, room)).map((m) => m.message),
        ["hello"],
      );
    },
  );

  await t.step(
    "a tampered question fails verification",
    () => {
      const call = hook.calls.at(-1);
      assert.ok(call);
      assert.throws(() =>
        new Webhook(SECRET).verify(
          call.body.replace("hello", "hullo"),
          call.headers,
        )
      );
    },
  );

  await t.step(
    "a rejected message reaches only its sender, as `rejected` with the reason and its cid, and is not stored",
    async () => {
      const room = uniqueRoom("reject");
      await using members = await pair(server, room);
      hook.answer = (call) =>
        call.payload.data.message === "buy now"
          ? Response.json({ action: "reject", reason: "No adverts here" })
          : Response.json({ action: "allow" });
      members.sender.send({ type: "message", message: "buy now", cid: "c-2" });
      const [error] = await members.sender.waitForType("error", 1);
      assert.deepEqual(error, {
        type: "error",
        code: "rejected",
        error: "No adverts here",
        cid: "c-2",
      });
      // What follows the rejected message arrives; the reader never
      // received the rejected one before it.
      members.sender.send({ type: "message", message: "marker", cid: "c-3" });
      await members.reader.waitForMatching(byText("marker"), 1);
      assert.deepEqual(members.reader.messageTexts(), ["marker"]);
      assert.deepEqual(members.sender.messageTexts(), ["marker"]);
      assert.deepEqual(
        (await storedMessages(server, room)).map((m) => m.message),
        ["marker"],
      );
    },
  );

  await t.step(
    "a replaced message is stored and delivered with the hook's text",
    async () => {
      const room = uniqueRoom("replace");
      await using members = await pair(server, room);
      hook.answer = () =>
        Response.json({ action: "replace", message: "what the ****" });
      members.sender.send({
        type: "message",
        message: "what the heck",
        cid: "c-4",
      });
      const [mine] = await members.sender.waitForType("message", 1);
      const [theirs] = await members.reader.waitForType("message", 1);
      assert.equal(mine?.message, "what the ****");
      assert.equal(mine?.cid, "c-4");
      assert.equal(theirs?.message, "what the ****");
      assert.deepEqual(
        (await storedMessages(server, room)).map((m) => m.message),
        ["what the ****"],
      );
    },
  );

  await t.step(
    "the server API's messages are not put to the hook",
    async () => {
      const room = uniqueRoom("api");
      await using members = await pair(server, room);
      hook.answer = () => Response.json({ action: "reject", reason: "no" });
      const before = hook.calls.length;
      const response = await fetch(
        `${server.origin}/api/rooms/${room}/messages`,
        {
          method: "POST",
          headers: {
            Authorization: `Bearer ${API_KEY}`,
            "Content-Type": "application/json",
          },
          body: JSON.stringify({ user: "Moderator", message: "from the site" }),
        },
      );
      assert.equal(response.status, 201);
      await response.body?.cancel();
      await members.reader.waitForMatching(byText("from the site"), 1);
      assert.equal(hook.calls.length, before);
    },
  );

  await t.step(
    "messages of a room are stored in the order sent while an earlier answer is slow, and other rooms go on",
    async () => {
      const room = uniqueRoom("order");
      const other = uniqueRoom("other");
      await using members = await pair(server, room);
      await using elsewhere = await TestClient.join(
        server.wsUrl(`/ws/chat/${other}/?name=cy`),
      );
      const slow = Promise.withResolvers<void>();
      hook.answer = async (call) => {
        if (call.payload.data.message === "first") await slow.promise;
        return Response.json({ action: "allow" });
      };
      const before = hook.calls.length;
      members.sender.send({ type: "message", message: "first" });
      members.sender.send({ type: "message", message: "second" });
      // Both questions are out at once: the second was asked (and is
      // answered at once) while the first waits.
      await hook.waitForCalls(before + 2);
      elsewhere.send({ type: "message", message: "elsewhere" });
      await elsewhere.waitForMatching(byText("elsewhere"), 1);
      assert.deepEqual(
        members.reader.messageTexts(),
        [],
        "the second waited for the first",
      );
      slow.resolve();
      const frames = await members.reader.waitForType("message", 2);
      assert.deepEqual(frames.map((f) => f.message), ["first", "second"]);
      assert.ok(Number(frames[0]?.id) < Number(frames[1]?.id));
      await members.sender.waitForType("message", 2);
      assert.deepEqual(members.sender.messageTexts(), ["first", "second"]);
      assert.deepEqual(
        (await storedMessages(server, room)).map((m) => m.message),
        ["first", "second"],
      );
    },
  );

  await t.step("a signed sender is named by its sub and verified", async () => {
    await using signedHook = new HookReceiver();
    await using signed = await serverWithHook(signedHook, {
      CHAT_AUTH: "optional",
      CHAT_AUTH_SECRET: AUTH_SECRET,
    });
    const token = await new SignJWT({
      sub: "user-42",
      name: "Dana",
      exp: Math.floor(Date.now() / 1000) + 3600,
    }).setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(AUTH_SECRET));
    const room = uniqueRoom("signed");
    await using sender = await TestClient.join(
      signed.wsUrl(`/ws/chat/${room}/?token=${token}`),
    );
    sender.send({ type: "message", message: "signed hello" });
    await sender.waitForType("message", 1);
    const call = signedHook.calls[0];
    assert.ok(call);
    assert.deepEqual(call.payload.data, {
      user: "Dana",
      verified: true,
      sub: "user-42",
      message: "signed hello",
    });
    assert.ok(!call.body.includes(token), "no token in the question");
  });

  await t.step("the metrics count the calls by outcome", async () => {
    assert.ok(await hookCalls(server, "allowed") >= 4);
    assert.equal(await hookCalls(server, "rejected"), 1);
    assert.equal(await hookCalls(server, "replaced"), 1);
    assert.equal(await hookCalls(server, "failed"), 0);
  });
});

Deno.test("publish hook failures", async (t) => {
  await t.step(
    "with the allow policy, a timeout and a 5xx let the message through, logged once per run",
    async () => {
      await using hook = new HookReceiver();
      const log = recordingLogger();
      await using server = await serverWithHook(
        hook,
        { CHAT_PUBLISH_HOOK_TIMEOUT_MS: "100" },
        log,
      );
      const room = uniqueRoom("fail_allow");
      await using members = await pair(server, room);
      hook.answer = hook.never;
      members.sender.send({ type: "message", message: "unheard", cid: "c-1" });
      await members.reader.waitForMatching(byText("unheard"), 1);
      hook.answer = () => new Response("down", { status: 503 });
      members.sender.send({ type: "message", message: "broken", cid: "c-2" });
      await members.reader.waitForMatching(byText("broken"), 1);
      hook.answer = () => Response.json({ action: "replace", message: " " });
      members.sender.send({ type: "message", message: "blank", cid: "c-3" });
      await members.reader.waitForMatching(byText("blank"), 1);
      hook.answer = () => new Response("not json");
      members.sender.send({ type: "message", message: "garbled", cid: "c-4" });
      await members.reader.waitForMatching(byText("garbled"), 1);
      hook.answer = () => Response.redirect("http://127.0.0.1:9/", 307);
      members.sender.send({ type: "message", message: "moved", cid: "c-6" });
      await members.reader.waitForMatching(byText("moved"), 1);
      hook.answer = () =>
        Response.json({ action: "allow", padding: "x".repeat(70_000) });
      members.sender.send({ type: "message", message: "bloated", cid: "c-7" });
      await members.reader.waitForMatching(byText("bloated"), 1);
      hook.answer = () => Response.json({ action: "allow" });
      members.sender.send({ type: "message", message: "fine", cid: "c-5" });
      await members.reader.waitForMatching(byText("fine"), 1);
      assert.deepEqual(
        (await storedMessages(server, room)).map((m) => m.message),
        ["unheard", "broken", "blank", "garbled", "moved", "bloated", "fine"],
      );
      const failing = log.events.filter((e) =>
        e.event === "publish_hook.failing"
      );
      assert.equal(failing.length, 1, "one line for the run of failures");
      assert.match(String(failing[0]?.reason), /within 100 ms/);
      await log.waitFor((e) => e.event === "publish_hook.recovered");
      assert.equal(
        log.events.find((e) => e.event === "publish_hook.recovered")?.failed,
        6,
      );
      assert.ok(!JSON.stringify(log.events).includes(SECRET.slice(6)));
      assert.equal(await hookCalls(server, "failed"), 6);
    },
  );

  await t.step(
    "with the reject policy, a timeout and a 5xx refuse the message as unavailable",
    async () => {
      await using hook = new HookReceiver();
      await using server = await serverWithHook(hook, {
        CHAT_PUBLISH_HOOK_TIMEOUT_MS: "100",
        CHAT_PUBLISH_HOOK_FAILURE: "reject",
      });
      const room = uniqueRoom("fail_reject");
      await using members = await pair(server, room);
      hook.answer = hook.never;
      members.sender.send({ type: "message", message: "unheard", cid: "c-1" });
      await hook.waitForCalls(1);
      hook.answer = () => new Response("oops", { status: 500 });
      members.sender.send({ type: "message", message: "broken", cid: "c-2" });
      const errors = await members.sender.waitForType("error", 2);
      assert.deepEqual(
        errors.map((f) => [f.code, f.cid]).sort(),
        [["unavailable", "c-1"], ["unavailable", "c-2"]],
      );
      hook.answer = () => Response.json({ action: "allow" });
      members.sender.send({ type: "message", message: "marker", cid: "c-3" });
      await members.reader.waitForMatching(byText("marker"), 1);
      assert.deepEqual(members.reader.messageTexts(), ["marker"]);
      assert.deepEqual(
        (await storedMessages(server, room)).map((m) => m.message),
        ["marker"],
      );
    },
  );

  await t.step(
    "closing the server ends the questions still out, without waiting for the timeout",
    async () => {
      await using hook = new HookReceiver();
      const log = recordingLogger();
      const server = await serverWithHook(
        hook,
        { CHAT_PUBLISH_HOOK_TIMEOUT_MS: "30000" },
        log,
      );
      const room = uniqueRoom("closing");
      const client = await TestClient.join(server.wsUrl(`/ws/chat/${room}/`));
      hook.answer = hook.never;
      client.send({ type: "message", message: "too late", cid: "c-1" });
      await hook.waitForCalls(1);
      await server[Symbol.asyncDispose]();
      await client.closed;
      // Ended at once: it does not wait for its 30 s timeout.
      await waitUntil(
        async () => await failedCalls(server) === 1,
        "the end of the question",
        5000,
      );
      // Ended by the close, not failed: nothing to tell the operator.
      assert.deepEqual(
        log.events.filter((e) => String(e.event).startsWith("publish_hook")),
        [],
      );
    },
  );
});

Deno.test("publish hook answers", async (t) => {
  const max = 20;

  await t.step("allow, reject and replace are read from JSON", () => {
    assert.deepEqual(parseVerdict({ action: "allow" }, max), {
      action: "allow",
    });
    assert.deepEqual(
      parseVerdict({ action: "reject", reason: " No links " }, max),
      { action: "reject", reason: "No links" },
    );
    assert.deepEqual(
      parseVerdict({ action: "replace", message: "fine" }, max),
      { action: "replace", message: "fine" },
    );
  });

  await t.step(
    "a reject keeps its intent without a usable reason, and a long one is cut",
    () => {
      for (const reason of [undefined, "", "   ", 42]) {
        assert.deepEqual(parseVerdict({ action: "reject", reason }, max), {
          action: "reject",
          reason: DEFAULT_REJECT_REASON,
        });
      }
      const long = parseVerdict(
        { action: "reject", reason: "가".repeat(MAX_REJECT_REASON_CHARS + 9) },
        max,
      );
      assert.equal(
        long.action === "reject" && [...long.reason].length,
        MAX_REJECT_REASON_CHARS,
      );
    },
  );

  await t.step("a replacement is checked like a client's message", () => {
    for (
      const message of [undefined, "", "  ", "x".repeat(max + 1), "\uD800"]
    ) {
      assert.throws(
        () => parseVerdict({ action: "replace", message }, max),
        /its replacement is refused|its answer/,
        JSON.stringify(message),
      );
    }
    assert.deepEqual(
      parseVerdict({ action: "replace", message: "x".repeat(max) }, max),
      { action: "replace", message: "x".repeat(max) },
    );
  });

  await t.step("anything else is a failure", () => {
    for (const value of [null, [], "allow", { action: "drop" }, {}]) {
      assert.throws(() => parseVerdict(value, max), /its answer/);
    }
  });
});
