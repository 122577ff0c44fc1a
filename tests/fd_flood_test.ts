import assert from "node:assert/strict";
import { SERVER, startServerProcess } from "./helpers/process.ts";
import { TestClient, uniqueRoom, waitUntil } from "./helpers/server.ts";

/** The server's open-file limit in these tests: small, so a flood is too. */
const FILE_LIMIT = 256;

/** Opens up to `count` TCP connections that never send a byte. */
async function floodIdle(port: number, count: number): Promise<Deno.TcpConn[]> {
  const conns: Deno.TcpConn[] = [];
  for (let i = 0; i < count; i++) {
    try {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    } catch (error) {
      // The server stopped accepting: the flood has done its worst.
      if (
        !(error instanceof Deno.errors.ConnectionRefused ||
          error instanceof Deno.errors.ConnectionReset)
      ) throw error;
      break;
    }
  }
  return conns;
}

/** The last accept event of each worker. */
function acceptStates(output: string): Map<number, string> {
  const states = new Map<number, string>();
  for (const line of output.split("\n")) {
    const found = line.match(
      /"event":"server\.(accept_failed|accept_resumed)"/,
    );
    if (!found?.[1]) continue;
    const worker = Number(line.match(/"worker":(\d+)/)?.[1] ?? 0);
    states.set(worker, found[1]);
  }
  return states;
}

/** Polls /healthz until it answers 200, for at most `timeoutMs`. */
async function healthyWithin(
  origin: string,
  timeoutMs: number,
  output: () => string,
) {
  const healthy = async () => {
    try {
      const response = await fetch(`${origin}/healthz`);
      await response.body?.cancel();
      return response.status === 200;
    } catch (error) {
      // Refused or reset while the listener is away: not yet.
      if (!(error instanceof TypeError)) throw error;
      return false;
    }
  };
  try {
    await waitUntil(healthy, "/healthz answering 200", timeoutMs);
  } catch (error) {
    throw new Error(`${error}; the server printed:\n${output()}`);
  }
}

for (const mode of [[], ["--workers", "2"]]) {
  Deno.test(
    `a flood of idle connections past the open-file limit does not kill the server${
      mode.length ? " (--workers 2)" : ""
    }`,
    async (t) => {
      const deno = Deno.execPath().replaceAll("'", "'\\''");
      const args = SERVER.run(...mode).map((arg) => `'${arg}'`).join(" ");
      const dir = await Deno.makeTempDir({ prefix: "chat-flood-" });
      await using _removeDir = {
        [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
      };
      // Workers share a database file; the file is the flood's victim too.
      await using server = await startServerProcess({
        command: "sh",
        args: ["-c", `ulimit -n ${FILE_LIMIT} && exec '${deno}' ${args}`],
        env: {
          CHAT_DB: `${dir}/chat.db`,
          CHAT_RATE_LIMIT: "0",
          LOG_LEVEL: "info",
        },
      });
      const port = Number(new URL(server.origin).port);
      await server.waitForOutput(/"event":"server\.start"/);
      const room = uniqueRoom("flood");
      await using before = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=before`),
      );

      await t.step(
        "the flood makes it drop pending connections, not die",
        async () => {
          const flood = await floodIdle(port, FILE_LIMIT * 2);
          try {
            await server.waitForOutput(/"event":"server\.accept_failed"/);
            assert.match(server.output(), /Too many open files/);
            assert.equal(
              before.socket.readyState,
              WebSocket.OPEN,
              `a chat that was open is not dropped:\n${server.output()}`,
            );
          } finally {
            for (const conn of flood) conn.close();
          }
        },
      );

      await t.step("it listens again and serves new users", async () => {
        await server.waitForOutput(/"event":"server\.accept_resumed"/);
        // Every listener that failed has logged that it listens again.
        await server.waitForOutput(
          (output) =>
            ![...acceptStates(output).values()].includes("accept_failed"),
        );
        await healthyWithin(server.origin, 10_000, () => server.output());
        await using after = await TestClient.join(
          server.wsUrl(`/ws/chat/${room}/?name=after`),
        );
        // The chat that was open through the flood goes on, both ways.
        before.send({ message: "from before" });
        await after.waitForMatching((f) => f.message === "from before", 1);
        after.send({ message: "after the flood" });
        await before.waitForMatching((f) => f.message === "after the flood", 1);
        assert.equal(server.child.pid > 0, true);
        assert.doesNotMatch(server.output(), /Uncaught/);
      });
    },
  );
}
