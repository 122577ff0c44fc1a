import assert from "node:assert/strict";
import { SignJWT } from "jose";
// @ts-types="@types/ws"
import WebSocket from "ws";
import { CHAT_PROTOCOL } from "../chat/frames.ts";
import { startServer, uniqueRoom, within } from "../testkit/server.ts";

const SECRET = "site-and-chat-share-this-32-byte-secret";
const RATE = 1;
const BURST = 2;

/** A socket that claims, through the trusted proxy header, an address. */
class ForwardedClient {
  readonly socket: WebSocket;
  readonly answers: { cid: string; accepted: boolean; error?: string }[] = [];
  readonly ready: Promise<void>;
  #changed = Promise.withResolvers<void>();

  constructor(url: string, origin: string, address: string) {
    const ready = Promise.withResolvers<void>();
    this.ready = ready.promise;
    this.socket = new WebSocket(url, [CHAT_PROTOCOL], {
      origin,
      headers: { "X-Forwarded-For": address },
    });
    this.socket.on("error", (error) => ready.reject(error));
    this.socket.on(
      "close",
      (code) => ready.reject(new Error(`closed with ${code} before joining`)),
    );
    this.socket.on("message", (data) => {
      const frame: unknown = JSON.parse(data.toString());
      if (typeof frame !== "object" || frame === null) return;
      if ("type" in frame && frame.type === "presence") ready.resolve();
      if (
        "cid" in frame && typeof frame.cid === "string" && "type" in frame &&
        (frame.type === "message" || frame.type === "error") &&
        !this.answers.some((a) => a.cid === frame.cid)
      ) {
        this.answers.push({
          cid: frame.cid,
          accepted: frame.type === "message",
          ...("error" in frame && typeof frame.error === "string"
            ? { error: frame.error }
            : {}),
        });
        this.#changed.resolve();
        this.#changed = Promise.withResolvers<void>();
      }
    });
  }

  send(cid: string): void {
    this.socket.send(JSON.stringify({ type: "message", message: cid, cid }));
  }

  /** Waits until each of `cids` was answered: its echo or a refusal. */
  async answered(cids: string[]): Promise<boolean[]> {
    const done = () => cids.every((c) => this.answers.some((a) => a.cid === c));
    while (!done()) {
      await within(this.#changed.promise, 10_000, `answers to ${cids}`);
    }
    return cids.map((c) =>
      this.answers.find((a) => a.cid === c)?.accepted ?? false
    );
  }

  close(): Promise<void> {
    const closed = new Promise<void>((resolve) =>
      this.socket.once("close", () => resolve())
    );
    this.socket.close();
    return closed;
  }
}

Deno.test("the message budget follows the sender, whatever its address", async (t) => {
  await using server = await startServer({
    CHAT_AUTH: "optional",
    CHAT_AUTH_SECRET: SECRET,
    CHAT_RATE_LIMIT: String(RATE),
    CHAT_RATE_BURST: String(BURST),
    CHAT_CONNECT_RATE: "0",
    CHAT_TRUSTED_PROXIES: "127.0.0.1",
  });
  const token = await new SignJWT({
    sub: "u-7",
    name: "Seven",
    exp: Math.floor(Date.now() / 1000) + 3600,
  }).setProtectedHeader({ alg: "HS256" }).sign(
    new TextEncoder().encode(SECRET),
  );

  /**
   * Opens one socket per `[query, address]`, has each send `BURST`
   * messages, and returns the answers (true: accepted).
   */
  async function sendBursts(sockets: [query: string, address: string][]) {
    const room = uniqueRoom("budget");
    const clients = sockets.map(([query, address]) =>
      new ForwardedClient(
        server.wsUrl(`/ws/chat/${room}/?${query}`),
        server.origin,
        address,
      )
    );
    try {
      await Promise.all(clients.map((client) => client.ready));
      const started = performance.now();
      const cids = clients.map((_, c) =>
        Array.from({ length: BURST }, (_, i) => `c${c}-${i}`)
      );
      clients.forEach((client, c) =>
        cids[c]?.forEach((cid) => client.send(cid))
      );
      const answers: boolean[] = [];
      for (const [c, client] of clients.entries()) {
        answers.push(...await client.answered(cids[c] ?? []));
      }
      return { answers, elapsedS: (performance.now() - started) / 1000 };
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  }

  /** Asserts that the answers fit one sender's budget. */
  function oneBudget({ answers, elapsedS }: {
    answers: boolean[];
    elapsedS: number;
  }) {
    const accepted = answers.filter(Boolean).length;
    const ceiling = BURST + Math.ceil(elapsedS * RATE);
    assert.ok(
      accepted <= ceiling,
      `${accepted} of ${answers.length} accepted in ${
        elapsedS.toFixed(2)
      } s; at most ${ceiling} may be`,
    );
  }

  await t.step("a signed user on two addresses has one budget", async () => {
    oneBudget(
      await sendBursts([
        [`token=${token}`, "10.0.0.1"],
        [`token=${token}`, "10.0.0.2"],
      ]),
    );
  });

  await t.step("a browser key on two addresses has one budget", async () => {
    const query = "name=guest&key=one-browser-key-00001";
    oneBudget(
      await sendBursts([[query, "10.0.0.3"], [query, "10.0.0.4"]]),
    );
  });

  await t.step(
    "browsers behind one address (an office's NAT) have a budget each",
    async () => {
      const { answers } = await sendBursts(
        Array.from({ length: 5 }, (_, i) => [
          `name=person${i}&key=office-browser-key-0000${i}`,
          "10.0.0.5",
        ]),
      );
      assert.deepEqual(answers, answers.map(() => true));
    },
  );
});

Deno.test("an address's budget bounds everyone behind it", async () => {
  const addressBurst = 6;
  await using server = await startServer({
    CHAT_ADDRESS_RATE_LIMIT: "1",
    CHAT_ADDRESS_RATE_BURST: String(addressBurst),
    CHAT_CONNECT_RATE: "0",
    CHAT_TRUSTED_PROXIES: "127.0.0.1",
  });
  const room = uniqueRoom("address");
  // Five browsers behind one address, each well within its own budget.
  const clients = Array.from({ length: 5 }, (_, i) =>
    new ForwardedClient(
      server.wsUrl(`/ws/chat/${room}/?name=p${i}&key=nat-browser-key-0000${i}`),
      server.origin,
      "10.0.0.9",
    ));
  try {
    await Promise.all(clients.map((client) => client.ready));
    const started = performance.now();
    const cids = clients.map((_, c) => [`n${c}-0`, `n${c}-1`]);
    clients.forEach((client, c) => cids[c]?.forEach((cid) => client.send(cid)));
    const answers = [];
    for (const [c, client] of clients.entries()) {
      const own = cids[c] ?? [];
      await client.answered(own);
      // Every socket of the room sees the others' echoes: only its own.
      answers.push(...client.answers.filter((a) => own.includes(a.cid)));
    }
    const elapsedS = (performance.now() - started) / 1000;
    const accepted = answers.filter((a) => a.accepted).length;
    assert.ok(accepted >= addressBurst, "the address's burst goes through");
    assert.ok(
      accepted <= addressBurst + Math.ceil(elapsedS),
      `${accepted} accepted in ${elapsedS.toFixed(2)} s`,
    );
    const refusal = answers.find((a) => !a.accepted);
    assert.match(
      refusal?.error ?? "",
      /from your address: at most 1 per second from everyone using it \(bursts of 6\)/,
    );
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
});
