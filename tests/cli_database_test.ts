import assert from "node:assert/strict";
import { SERVER, startServerProcess } from "../testkit/process.ts";
import { assertOneLine, decoder, ROOT, runToExit } from "../testkit/cli.ts";

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
