import assert from "node:assert/strict";
import { VERSION } from "../server/settings_docs.ts";
import { listenersOn } from "../testkit/listeners.ts";
import { SERVER, startServerProcess } from "../testkit/process.ts";
import { announced, Spawned } from "../testkit/cli.ts";

/** Quotes `word` for `sh`. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Parsed JSON log lines of `output`. */
function logEvents(output: string): Record<string, unknown>[] {
  return output.split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));
}

/** Whether anything answers HTTP on 127.0.0.1:`port`. */
async function answers(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/chat/`);
    await response.body?.cancel();
    return true;
  } catch (error) {
    if (error instanceof TypeError) return false;
    throw error;
  }
}

Deno.test("the start line and the server.start event appear once", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "chat-cli-start-" });
  try {
    const modes = [
      { flags: [], mode: "1 isolate", workers: 1 },
      { flags: ["--workers", "2"], mode: "2 workers", workers: 2 },
    ];
    for (const { flags, mode, workers } of modes) {
      await t.step(`they name the URL, ${mode} and the data`, async () => {
        const db = `${dir}/chat-${workers}.db`;
        const server = await startServerProcess({
          args: SERVER.run("--db", db, ...flags),
          env: { LOG_LEVEL: "info" },
        });
        try {
          await server.waitForOutput(/"event":"server\.start"/);
        } finally {
          assert.equal((await server.stop()).code, 0, server.output());
        }
        const output = server.output();
        const url = `${server.origin}/chat/`;
        assert.deepEqual(
          output.split("\n").filter((line) => line.startsWith("Chat server")),
          [`Chat server ready at ${url} (${mode}); data in ${db}`],
        );
        const starts = logEvents(output).filter((event) =>
          event.event === "server.start"
        );
        assert.equal(starts.length, 1, output);
        // The connection limit follows this machine's open-file limit.
        const maxConnections = starts[0]?.maxConnections;
        assert.ok(
          Number.isInteger(maxConnections) && Number(maxConnections) >= 16 &&
            Number(maxConnections) <= 10_000,
          String(maxConnections),
        );
        assert.deepEqual(
          { ...starts[0], time: undefined, level: undefined, maxConnections },
          {
            time: undefined,
            level: undefined,
            maxConnections,
            event: "server.start",
            url,
            mode,
            workers,
            data: `in ${db}`,
            version: VERSION,
          },
        );
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// `npx deno task start` runs the server under `npm exec` → `sh -c` →
// `deno task`; SIGTERM to npx ends the sh, which does not pass it on.
Deno.test("the server stops when its launcher exits", async (t) => {
  for (const mode of [[], ["--workers", "2"]]) {
    await t.step(
      `SIGTERM to a shell that does not pass it on${
        mode.length ? " (--workers 2)" : ""
      }`,
      async () => {
        const dir = await Deno.makeTempDir({ prefix: "chat-cli-launcher-" });
        await using _removeDir = {
          [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
        };
        const server = [Deno.execPath(), ...SERVER.run(...mode)]
          .concat("--port", "0", "--db", `${dir}/chat.db`)
          .map(shellQuote)
          .join(" ");
        // sh waits for the server and dies of SIGTERM without passing it on.
        await using shell = new Spawned("sh", [
          "-c",
          `${server} & echo "server pid $!"; wait`,
        ], { LOG_LEVEL: "info" });
        let pid: number | undefined;
        try {
          pid = Number((await shell.waitFor(/^server pid (\d+)$/m))[1]);
          const { port } = await announced(shell);
          await shell.waitFor(/"event":"server\.start"/);
          assert.ok(await answers(port), "the server answers before");

          shell.child.kill("SIGTERM");
          const status = await shell.child.status;
          assert.equal(status.signal, "SIGTERM", "sh died of the signal");
          // The server holds the pipes it inherited from sh: they close
          // once it has exited.
          await shell.waitForClose();
          const events = logEvents(shell.output()).map((event) => event.event);
          assert.ok(
            events.includes("server.launcher_exited"),
            shell.output(),
          );
          assert.ok(events.includes("server.shutdown"), shell.output());
          assert.equal(await answers(port), false, "nothing on the port");
          assert.deepEqual(await listenersOn(port), []);
        } finally {
          // Never leave the server behind, even when an assertion failed:
          // while its pipes are open, pid is still the server.
          if (!shell.closed && pid) Deno.kill(pid, "SIGKILL");
        }
      },
    );
  }
});
