import assert from "node:assert/strict";
import { settingList } from "../server/settings.ts";
import { VERSION } from "../server/settings_docs.ts";
import { listenersOn } from "../testkit/listeners.ts";
import { finishedWithin } from "../platform/deadline.ts";
import { freePort, SERVER, startServerProcess } from "../testkit/process.ts";

const ROOT = new URL("..", import.meta.url);
const decoder = new TextDecoder();

/** A process that has exited, and everything it printed. */
interface Finished {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `deno <args>` from the project folder until it exits. A run that
 * does not end within `timeoutMs` (a server that started when it should
 * not have) is sent SIGTERM, so the test fails instead of hanging.
 */
async function runToExit(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<Finished> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [...args],
      cwd: ROOT,
      env: { NO_COLOR: "1", ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

function describe(run: Finished): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}--- stderr\n${run.stderr}`;
}

/**
 * Asserts that `run` exited with `code` after printing exactly one line,
 * `Cannot start: …`, on stderr and nothing on stdout, with no stack trace;
 * the line must contain every string and match every pattern of `says`.
 */
function assertOneLine(
  run: Finished,
  code: number,
  ...says: (string | RegExp)[]
): void {
  assert.equal(run.code, code, describe(run));
  assert.doesNotMatch(`${run.stdout}${run.stderr}`, /^\s+at /m, describe(run));
  assert.equal(run.stdout, "", describe(run));
  const lines = run.stderr.split("\n").filter((line) => line.trim() !== "");
  assert.equal(lines.length, 1, describe(run));
  const [line = ""] = lines;
  assert.match(line, /^Cannot start: /);
  for (const expected of says) {
    if (typeof expected === "string") {
      assert.ok(line.includes(expected), `${line}\ndoes not name ${expected}`);
    } else {
      assert.match(line, expected);
    }
  }
}

/**
 * A long-running process whose stdout and stderr are collected. Unlike
 * `startServerProcess` it waits for a line rather than for HTTP on
 * 127.0.0.1, and it tells when its pipes close: when every process that
 * holds them (children included) has exited.
 */
class Spawned implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** Settles when stdout and stderr have both reached their end. */
  readonly pipesClosed: Promise<void>;
  #printed = "";
  #closed = false;
  #exited = false;
  #more = Promise.withResolvers<void>();

  constructor(command: string, args: readonly string[], env = {}) {
    this.child = new Deno.Command(command, {
      args: [...args],
      cwd: ROOT,
      env: { NO_COLOR: "1", ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    void this.child.status.then(() => (this.#exited = true));
    this.pipesClosed = Promise.all([
      this.#collect(this.child.stdout),
      this.#collect(this.child.stderr),
    ]).then(() => {
      this.#closed = true;
      this.#wake();
    });
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      this.#printed += text;
      this.#wake();
    }
  }

  #wake(): void {
    this.#more.resolve();
    this.#more = Promise.withResolvers<void>();
  }

  /** Everything printed so far. */
  output(): string {
    return this.#printed;
  }

  /** Whether stdout and stderr have reached their end. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Waits until the output matches `pattern`; fails if the pipes close first. */
  async waitFor(
    pattern: RegExp,
    timeoutMs = 30_000,
  ): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const match = this.#printed.match(pattern);
      if (match) return match;
      const left = deadline - Date.now();
      if (this.#closed || left <= 0) {
        throw new Error(
          `Output did not match ${pattern}${
            this.#closed ? " before the process ended" : ` in ${timeoutMs} ms`
          }:\n${this.#printed}`,
        );
      }
      await this.#sleepUntilMore(left);
    }
  }

  /** Waits until the pipes close; fails after `timeoutMs`. */
  async waitForClose(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `Output still open after ${timeoutMs} ms:\n${this.#printed}`,
        );
      }
      await this.#sleepUntilMore(left);
    }
  }

  async #sleepUntilMore(ms: number): Promise<void> {
    await finishedWithin(this.#more.promise, ms);
  }

  /** Sends `signal` unless it has exited; SIGKILL after 8 s; waits for it all. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    if (!this.#exited) this.child.kill(signal);
    const timer = setTimeout(() => {
      if (!this.#exited) this.child.kill("SIGKILL");
    }, 8000);
    const status = await this.child.status;
    clearTimeout(timer);
    await this.pipesClosed;
    return status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Quotes `word` for `sh`. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The port in a start line's URL. */
const START_LINE =
  /^Chat server ready at http:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/chat\/ /m;

/** The address and port a server's start line names. */
async function announced(server: Spawned) {
  const [, host = "", port = ""] = await server.waitFor(START_LINE);
  return { address: host.replace(/^\[(.*)\]$/, "$1"), port: Number(port) };
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

Deno.test("--help and --version", async (t) => {
  await t.step("--help exits 0 and lists every flag and variable", async () => {
    const run = await runToExit(SERVER.run("--help"));
    assert.equal(run.code, 0, describe(run));
    assert.equal(run.stderr, "");
    for (const { setting } of settingList()) {
      assert.ok(run.stdout.includes(`--${setting.flag}`), setting.flag);
      assert.ok(run.stdout.includes(setting.env), setting.env);
    }
  });

  await t.step("--version prints chat-server and the version", async () => {
    const run = await runToExit(SERVER.run("--version"));
    assert.equal(run.code, 0, describe(run));
    assert.equal(run.stdout, `chat-server ${VERSION}\n`);
    assert.equal(run.stderr, "");
  });
});

Deno.test("a bad option or value is one line and exit 2", async (t) => {
  const cases: {
    name: string;
    args: string[];
    env?: Record<string, string>;
    says: (string | RegExp)[];
  }[] = [
    { name: "an unknown flag", args: ["--nope"], says: ["'--nope'"] },
    {
      name: "a positional argument",
      args: ["serve"],
      says: ["'serve'"],
    },
    {
      name: "a bad flag value",
      args: ["--port", "x"],
      says: ["--port", '"x"', "a whole number from 0 to 65535"],
    },
    {
      name: "a flag value that looks like a flag",
      args: ["--port", "-1"],
      says: ["'--port'", "--port=-XYZ"],
    },
    {
      name: "a bad variable value",
      args: [],
      env: { CHAT_RATE_LIMIT: "lots" },
      says: ["CHAT_RATE_LIMIT", '"lots"', "a whole number"],
    },
    {
      name: "a presence TTL no longer than the heartbeat",
      args: ["--presence-heartbeat-ms", "1000"],
      env: { CHAT_PRESENCE_TTL_MS: "1000" },
      says: [
        "CHAT_PRESENCE_TTL_MS (1000)",
        "CHAT_PRESENCE_HEARTBEAT_MS (1000)",
      ],
    },
  ];
  for (const { name, args, env, says } of cases) {
    await t.step(name, async () => {
      const run = await runToExit(
        SERVER.run(...args, "--db", ":memory:"),
        env,
      );
      assertOneLine(run, 2, ...says);
    });
  }
});

Deno.test("the server listens only where --host or HOST says", async (t) => {
  const cases = [
    {
      name: "HOST=localhost listens on loopback alone",
      args: ["--db", ":memory:"],
      env: { HOST: "localhost", PORT: "0" },
      expected: (address: string) =>
        assert.ok(["127.0.0.1", "::1"].includes(address), address),
    },
    {
      name: "--host ::1 listens on ::1 alone",
      args: ["--host", "::1", "--port", "0", "--db", ":memory:"],
      env: { HOST: "0.0.0.0" },
      expected: (address: string) => assert.equal(address, "::1"),
    },
  ];
  for (const { name, args, env, expected } of cases) {
    await t.step(name, async () => {
      await using server = new Spawned(Deno.execPath(), SERVER.run(...args), {
        LOG_LEVEL: "warn",
        ...env,
      });
      const { address, port } = await announced(server);
      expected(address);
      const family = address.includes(":") ? "ipv6" : "ipv4";
      assert.deepEqual(await listenersOn(port), [{ address, port, family }]);
      const url = family === "ipv6"
        ? `http://[${address}]:${port}/chat/`
        : `http://${address}:${port}/chat/`;
      const page = await fetch(url);
      await page.body?.cancel();
      assert.equal(page.status, 200);
      assert.equal((await server.stop()).code, 0, server.output());
    });
  }
});

Deno.test("a port or address that cannot be bound is one line and exit 1", async (t) => {
  for (const mode of [[], ["--workers", "2"]]) {
    await t.step(
      `a busy port names the port and how to choose another${
        mode.length ? " (--workers 2)" : ""
      }`,
      async () => {
        using held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const port = String(held.addr.port);
        // Workers share a database file; :memory: is refused for them.
        const dir = await Deno.makeTempDir({ prefix: "chat-cli-busy-" });
        await using _removeDir = {
          [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
        };
        const run = await runToExit(
          SERVER.run("--port", port, "--db", `${dir}/chat.db`, ...mode),
          { HOST: "127.0.0.1" },
        );
        assertOneLine(
          run,
          1,
          `port ${port} on 127.0.0.1 is already in use`,
          "--port or PORT",
        );
      },
    );
  }

  await t.step("an address not of this machine is named", async () => {
    const run = await runToExit(
      SERVER.run("--host", "10.255.255.1", "--port", "0", "--db", ":memory:"),
    );
    assertOneLine(
      run,
      1,
      "10.255.255.1 is not an address of this machine",
      "--host or HOST",
    );
  });

  for (const mode of [[], ["--workers", "2"]]) {
    await t.step(
      `an unreachable Redis is named, without its password${
        mode.length ? " (--workers 2)" : ""
      }`,
      async () => {
        const port = freePort();
        const run = await runToExit(
          SERVER.run("--port", "0", ...mode),
          { REDIS_URL: `redis://:hunter2@127.0.0.1:${port}/4` },
        );
        assertOneLine(
          run,
          1,
          `Redis at redis://127.0.0.1:${port}/4 is unreachable`,
        );
        assert.ok(!run.stderr.includes("hunter2"));
      },
    );
  }

  await t.step("a host name that does not resolve is named", async () => {
    const run = await runToExit(
      SERVER.run(
        "--host",
        "no-such-host.invalid",
        "--port",
        "0",
        "--db",
        ":memory:",
      ),
    );
    assertOneLine(
      run,
      1,
      "cannot resolve the host name no-such-host.invalid",
      "--host or HOST",
    );
  });
});

/** Runs `command args` to its end; throws with its stderr if it fails. */
async function system(command: string, args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} exited with ${code}: ${
        decoder.decode(stderr).trim()
      }`,
    );
  }
}

Deno.test("a database that cannot be used is one line and exit 1", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "chat-cli-db-" });
  const readOnly = `${dir}/read-only`;
  let mounted = false;
  try {
    await Deno.writeTextFile(`${dir}/blocker`, "a file where a folder must go");
    const readme = new URL("README.md", ROOT).pathname;
    const cases: { name: string; db: string; mode?: string[]; says: RegExp }[] =
      [
        {
          name: "a file that is not SQLite",
          db: readme,
          says: /is not a SQLite database/,
        },
        {
          name: "a file that is not SQLite, under --workers 2",
          db: readme,
          mode: ["--workers", "2"],
          says: /is not a SQLite database/,
        },
        { name: "a folder", db: dir, says: /is a folder, not a database file/ },
        {
          name: "a path whose folder cannot be created",
          db: `${dir}/blocker/sub/chat.db`,
          says: /not a directory|cannot create/i,
        },
      ];
    for (const { name, db, mode = [], says } of cases) {
      await t.step(`${name} is named, and what is wrong with it`, async () => {
        const run = await runToExit(
          SERVER.run("--db", db, "--port", "0", ...mode),
        );
        assertOneLine(run, 1, db, says, "--db or CHAT_DB");
      });
    }

    // A read-only file system: root may write any file, whatever its mode.
    await Deno.mkdir(readOnly);
    let skipWhy = "";
    try {
      await system("mount", [
        "-t",
        "tmpfs",
        "-o",
        "size=1m",
        "tmpfs",
        readOnly,
      ]);
      mounted = true;
    } catch (error) {
      skipWhy = error instanceof Error ? error.message : String(error);
      if (Deno.env.get("CI") === "true") {
        throw new Error(`CI must test a read-only database: ${skipWhy}`);
      }
      console.log(
        `Skipping the read-only database: cannot mount a tmpfs (${skipWhy})`,
      );
    }
    await t.step({
      name: "a read-only database is named, and that it is not writable",
      ignore: !mounted,
      fn: async () => {
        const db = `${readOnly}/chat.db`;
        const first = await startServerProcess({
          args: SERVER.run("--db", db),
          env: { LOG_LEVEL: "warn" },
        });
        assert.equal((await first.stop()).code, 0, first.output());
        assert.ok((await Deno.stat(db)).isFile, "the first start created it");
        await system("mount", ["-o", "remount,ro", readOnly]);
        const run = await runToExit(SERVER.run("--db", db, "--port", "0"));
        assertOneLine(run, 1, db, /is not writable/, "--db or CHAT_DB");
      },
    });
  } finally {
    if (mounted) await system("umount", [readOnly]);
    await Deno.remove(dir, { recursive: true });
  }
});

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
