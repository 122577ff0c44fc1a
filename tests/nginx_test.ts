/**
 * Two server processes sharing rooms through a real redis-server, behind a
 * real nginx with no sticky sessions: clients from many addresses all get
 * in and hear every message once, in order, whichever process holds their
 * socket; the per-address limit counts each client by the address nginx
 * forwards (`CHAT_TRUSTED_PROXIES`), and `X-Forwarded-For` from anyone
 * else changes nothing.
 *
 * Clients are npm:ws sockets bound to their own loopback source address
 * (127.0.0.0/8 is all loopback on Linux); Deno's WebSocket cannot choose
 * one.
 *
 * @module
 */

import assert from "node:assert/strict";
// @ts-types="@types/ws"
import WebSocket from "ws";
import { CHAT_PROTOCOL } from "../chat/frames.ts";
import {
  HEADER_TIMEOUT_S,
  ignoreWithoutNginx,
  startNginx,
} from "../testkit/nginx.ts";
import {
  freePort,
  SERVER,
  type ServerProcess,
  startServerProcess,
} from "../testkit/process.ts";
import { MessageCollector } from "../testkit/message_collector.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import { uniqueRoom, within } from "../testkit/server.ts";

/** Open sockets each process allows one client address. */
const PER_ADDRESS = 3;

/** How long a socket may take to be admitted or refused. */
const OPEN_TIMEOUT_MS = 10_000;

/** The answer to an upgrade: in (with its presence frame), or a status. */
type Outcome = { readonly admitted: true } | {
  readonly admitted: false;
  readonly status: number;
};

/** What a test client is opened with. */
interface ClientOptions {
  /** The loopback address the TCP connection comes from. */
  readonly from: string;
  /** The page's origin, sent as `Origin`. */
  readonly origin: string;
  /** Extra request headers, e.g. a forged `X-Forwarded-For`. */
  readonly headers?: Record<string, string>;
}

/**
 * A typed-protocol socket from a chosen source address that records the
 * ids of the messages it receives.
 */
class SourcedClient {
  readonly socket: WebSocket;
  readonly #messages = new MessageCollector();
  /** Settles with the presence frame, or with the refusal's status. */
  readonly outcome: Promise<Outcome>;
  readonly #closed = Promise.withResolvers<void>();

  constructor(url: string, options: ClientOptions) {
    const refused = Promise.withResolvers<Outcome>();
    this.outcome = Promise.race([
      this.#messages.admitted.then((): Outcome => ({ admitted: true })),
      refused.promise,
    ]);
    this.socket = new WebSocket(url, [CHAT_PROTOCOL], {
      localAddress: options.from,
      origin: options.origin,
      ...(options.headers ? { headers: options.headers } : {}),
    });
    this.socket.on("unexpected-response", (_request, response) => {
      refused.resolve({ admitted: false, status: response.statusCode ?? 0 });
      response.resume();
      // With this listener ws leaves the refused handshake to us: abort
      // it, which closes the socket (and reports an error, ignored).
      this.socket.terminate();
    });
    this.socket.on("message", (data, isBinary) => {
      if (!isBinary) this.#messages.receive(data.toString());
    });
    this.socket.on("error", (error) => refused.reject(error));
    this.socket.on("close", (code) => {
      this.#messages.ended(`with ${code}`);
      this.#closed.resolve();
    });
    this.outcome.catch(() => {});
  }

  /** The ids of the messages received, in arrival order. */
  get ids(): number[] {
    return this.#messages.ids;
  }

  /** The outcome, or a failure after {@linkcode OPEN_TIMEOUT_MS}. */
  async settled(): Promise<Outcome> {
    return await within(this.outcome, OPEN_TIMEOUT_MS, "admission");
  }

  send(message: string): void {
    this.socket.send(JSON.stringify({ message }));
  }

  /** Waits until `count` messages arrived; fails after `timeoutMs`. */
  waitForMessages(count: number, timeoutMs: number): Promise<void> {
    return this.#messages.waitFor(count, timeoutMs);
  }

  /** Closes the socket, refused or open, and waits until it is closed. */
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close();
    await this.#closed.promise;
  }
}

/** Opens `clients` one after another, each settled before the next. */
async function openInTurn(
  make: (index: number) => SourcedClient,
  count: number,
  into: SourcedClient[],
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let index = 0; index < count; index++) {
    const client = make(index);
    into.push(client);
    outcomes.push(await client.settled());
  }
  return outcomes;
}

/** Open connections a server process reports on `/healthz`. */
async function openConnections(server: ServerProcess): Promise<number> {
  const response = await fetch(`${server.origin}/healthz`);
  const body: unknown = await response.json();
  assert.ok(
    typeof body === "object" && body !== null && "connections" in body &&
      typeof body.connections === "number",
    `/healthz said ${JSON.stringify(body)}`,
  );
  return body.connections;
}

/** Whether a process logged a refused upgrade for client `ip`. */
function loggedRefusal(ip: string, peer?: string) {
  return (output: string) =>
    output.split("\n").some((line) => {
      if (!line.startsWith("{")) return false;
      const event: unknown = JSON.parse(line);
      return typeof event === "object" && event !== null &&
        "event" in event && event.event === "upgrade.refused" &&
        "ip" in event && event.ip === ip &&
        (peer === undefined || ("peer" in event && event.peer === peer));
    });
}

Deno.test({
  name: "behind nginx, clients are told apart by their forwarded address",
  ignore: ignoreWithoutNginx || ignoreWithoutRedis,
  async fn(t) {
    await using redis = await startRedis();
    // Known before the processes start: their allowed origins and hosts
    // are nginx's.
    const proxyPort = freePort();
    const env = {
      REDIS_URL: redis.url,
      CHAT_TRUSTED_PROXIES: "127.0.0.1",
      CHAT_MAX_CONNECTIONS_PER_IP: String(PER_ADDRESS),
      CHAT_CONNECT_RATE: "0",
      CHAT_ALLOWED_HOSTS: "127.0.0.1,localhost",
      LOG_LEVEL: "warn",
    };
    await using a = await startServerProcess({ args: SERVER.run(), env });
    await using b = await startServerProcess({ args: SERVER.run(), env });
    await using nginx = await startNginx({
      port: proxyPort,
      backends: [a.origin, b.origin].map((origin) => new URL(origin).host),
    });
    const throughNginx = (room: string, name: string) =>
      nginx.wsUrl(`/ws/chat/${room}/?name=${name}`);

    await t.step(
      "60 clients from 60 addresses all get in, and each hears every message once, in id order",
      async () => {
        const room = uniqueRoom("crowd");
        const clients = Array.from(
          { length: 60 },
          (_, index) =>
            new SourcedClient(throughNginx(room, `c${index}`), {
              from: `127.0.0.${10 + index}`,
              origin: nginx.origin,
            }),
        );
        try {
          const outcomes = await Promise.all(clients.map((c) => c.settled()));
          assert.deepEqual(
            outcomes.filter((outcome) => !outcome.admitted),
            [],
            "nobody refused",
          );
          // Round robin: both processes hold members of the room, so each
          // message crosses Redis to reach half of them.
          const [onA, onB] = await Promise.all([a, b].map(openConnections));
          assert.equal((onA ?? 0) + (onB ?? 0), 60);
          assert.ok(onA && onB, `A holds ${onA}, B holds ${onB}`);

          const senders = clients.slice(0, 6);
          const perSender = 5;
          for (let round = 0; round < perSender; round++) {
            for (const [number, sender] of senders.entries()) {
              sender.send(`s${number} #${round}`);
            }
          }
          const total = senders.length * perSender;
          await Promise.all(
            clients.map((c) => c.waitForMessages(total, 20_000)),
          );
          const expected = Array.from({ length: total }, (_, i) => i + 1);
          for (const [index, client] of clients.entries()) {
            assert.deepEqual(client.ids, expected, `client c${index}`);
          }
        } finally {
          await Promise.all(clients.map((c) => c.close()));
        }
      },
    );

    await t.step(
      `10 clients from one address get ${PER_ADDRESS} sockets on each process, the rest 429`,
      async () => {
        const room = uniqueRoom("one_address");
        const clients: SourcedClient[] = [];
        try {
          const outcomes = await openInTurn(
            (index) =>
              new SourcedClient(throughNginx(room, `same${index}`), {
                from: "127.0.0.100",
                origin: nginx.origin,
              }),
            10,
            clients,
          );
          const admitted = outcomes.filter((outcome) => outcome.admitted);
          assert.equal(admitted.length, 2 * PER_ADDRESS, "admitted");
          assert.deepEqual(
            outcomes.filter((outcome) => !outcome.admitted),
            Array(10 - 2 * PER_ADDRESS).fill({ admitted: false, status: 429 }),
          );
          // The refusals are logged under the client's address, with the
          // proxy beside it.
          for (const server of [a, b]) {
            await server.waitForOutput(
              loggedRefusal("127.0.0.100", "127.0.0.1"),
            );
          }
        } finally {
          await Promise.all(clients.map((c) => c.close()));
        }
      },
    );

    await t.step(
      "X-Forwarded-For a client writes itself, through nginx, is not believed",
      async () => {
        const room = uniqueRoom("forged_via_proxy");
        const clients: SourcedClient[] = [];
        try {
          const outcomes = await openInTurn(
            (index) =>
              new SourcedClient(throughNginx(room, `forger${index}`), {
                from: "127.0.0.150",
                origin: nginx.origin,
                headers: { "X-Forwarded-For": `10.1.2.${index}` },
              }),
            8,
            clients,
          );
          assert.equal(
            outcomes.filter((outcome) => outcome.admitted).length,
            2 * PER_ADDRESS,
          );
        } finally {
          await Promise.all(clients.map((c) => c.close()));
        }
      },
    );

    await t.step(
      "nginx drops a connection whose headers never complete (slowloris), which Deno.serve cannot",
      async () => {
        const port = Number(new URL(nginx.origin).port);
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        try {
          const started = performance.now();
          await conn.write(
            new TextEncoder().encode(
              "GET /chat/ HTTP/1.1\r\nHost: 127.0.0.1\r\n",
            ),
          );
          // The rest of the headers never comes: nginx closes the socket
          // (a 408 or nothing), long before the test's own deadline.
          const chunk = new Uint8Array(1024);
          let read: number | null = 0;
          while (read !== null) {
            read = await within(
              conn.read(chunk),
              (HEADER_TIMEOUT_S + 10) * 1000,
              "nginx closing a connection with incomplete headers",
            );
          }
          const waitedS = (performance.now() - started) / 1000;
          assert.ok(
            waitedS >= HEADER_TIMEOUT_S - 0.5,
            `closed after ${waitedS.toFixed(1)} s, before the timeout`,
          );
        } finally {
          conn.close();
        }
      },
    );

    await t.step(
      "straight to a process from an untrusted address, X-Forwarded-For changes nothing",
      async () => {
        const room = uniqueRoom("forged_direct");
        const clients: SourcedClient[] = [];
        try {
          const outcomes = await openInTurn(
            (index) =>
              new SourcedClient(a.wsUrl(`/ws/chat/${room}/?name=d${index}`), {
                from: "127.0.0.200",
                origin: a.origin,
                headers: { "X-Forwarded-For": `10.1.2.${index}` },
              }),
            PER_ADDRESS + 1,
            clients,
          );
          assert.deepEqual(outcomes, [
            ...Array(PER_ADDRESS).fill({ admitted: true }),
            { admitted: false, status: 429 },
          ]);
          await a.waitForOutput(loggedRefusal("127.0.0.200"));
        } finally {
          await Promise.all(clients.map((c) => c.close()));
        }
      },
    );
  },
});
