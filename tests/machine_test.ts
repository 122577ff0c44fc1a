import assert from "node:assert/strict";
import { parseOpenFileLimit } from "../platform/proc.ts";
import { SERVER, startServerProcess } from "../testkit/process.ts";

const LIMITS =
  `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

Deno.test("the open-file limit", async (t) => {
  await t.step("is read from /proc/self/limits, the soft one", () => {
    assert.equal(parseOpenFileLimit(LIMITS), 1024);
    assert.equal(parseOpenFileLimit("nothing here"), undefined);
    assert.equal(
      parseOpenFileLimit("Max open files unlimited unlimited files"),
      undefined,
    );
  });

  await t.step(
    "sizes the connection limit of a server run under ulimit -n",
    async () => {
      const deno = Deno.execPath().replaceAll("'", "'\\''");
      const args = SERVER.run().map((arg) => `'${arg}'`).join(" ");
      await using server = await startServerProcess({
        command: "sh",
        args: ["-c", `ulimit -n 1024 && exec '${deno}' ${args}`],
        env: { CHAT_DB: ":memory:", LOG_LEVEL: "info" },
      });
      const output = await server.waitForOutput(/"event":"server\.start"/);
      const start = output.split("\n").find((line) =>
        line.includes('"event":"server.start"')
      );
      assert.ok(start);
      assert.equal(JSON.parse(start).maxConnections, 614);
    },
  );
});
