import assert from "node:assert/strict";
import { SignJWT } from "jose";
// @ts-types="@types/ws"
import WebSocket from "ws";
import { CHAT_PROTOCOL } from "../chat/frames.ts";
import { startServer, uniqueRoom, within } from "./helpers/server.ts";

const SECRET = "site-and-chat-share-this-32-byte-secret";
const RATE = 1;
const BURST = 2;

/** A socket that claims, through the trusted proxy header, an address. */
class ForwardedClient {
  readonly socket: WebSocket;
  readonly answers: { cid: string; accepted: boolean }[] = [];
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

Deno.test("the message budget follows a signed user across addresses, a guest's the address", async (t) => {
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

  /** Two sockets from two addresses send `BURST` each; returns the answers. */
  async function twoAddresses(query: string) {
    const room = uniqueRoom("budget");
    const url = server.wsUrl(`/ws/chat/${room}/?${query}`);
    const first = new ForwardedClient(url, server.origin, "10.0.0.1");
    const second = new ForwardedClient(url, server.origin, "10.0.0.2");
    try {
      await Promise.all([first.ready, second.ready]);
      const started = performance.now();
      const firstCids = Array.from({ length: BURST }, (_, i) => `a${i}`);
      const secondCids = Array.from({ length: BURST }, (_, i) => `b${i}`);
      for (const cid of firstCids) first.send(cid);
      for (const cid of secondCids) second.send(cid);
      const answers = [
        ...await first.answered(firstCids),
        ...await second.answered(secondCids),
      ];
      return { answers, elapsedS: (performance.now() - started) / 1000 };
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  }

  await t.step("a signed user on two addresses has one budget", async () => {
    const { answers, elapsedS } = await twoAddresses(`token=${token}`);
    const accepted = answers.filter(Boolean).length;
    const ceiling = BURST + Math.ceil(elapsedS * RATE);
    assert.ok(
      accepted <= ceiling,
      `${accepted} of ${answers.length} accepted in ${
        elapsedS.toFixed(2)
      } s; at most ${ceiling} may be`,
    );
  });

  await t.step("guests on two addresses have a budget each", async () => {
    const { answers } = await twoAddresses(
      "name=guest&key=one-browser-key-00001",
    );
    assert.deepEqual(answers, answers.map(() => true));
  });
});
