/**
 * The launcher watch (server/launcher_watch.ts) when `/proc` cannot be
 * read: run out of file descriptors, as in a connection flood, it reports
 * the failed look once and goes on watching, instead of throwing from its
 * timer and ending the server.
 *
 * @module
 */

import assert from "node:assert/strict";

Deno.test(
  "the launcher watch outlives looks that fail for want of file descriptors",
  async () => {
    const fixture =
      new URL("./fixtures/launcher_watch_flood.ts", import.meta.url)
        .pathname;
    const deno = Deno.execPath().replaceAll("'", "'\\''");
    const { code, stdout, stderr } = await new Deno.Command("sh", {
      args: ["-c", `ulimit -n 64 && exec '${deno}' run -A '${fixture}'`],
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const printed = new TextDecoder().decode(stdout);
    const problems = new TextDecoder().decode(stderr);
    assert.equal(code, 0, `${printed}${problems}`);
    const lines = printed.trim().split("\n");
    assert.match(
      lines[0] ?? "",
      /^launchers [1-9]/,
      "it had launchers to watch",
    );
    assert.match(lines[1] ?? "", /^look failed: .*Too many open files/);
    assert.deepEqual(lines.slice(2), ["still running"], "reported once");
  },
);
