import assert from "node:assert/strict";
import { createLogger, type LogLevel } from "../observability/log.ts";

Deno.test("structured logs", async (t) => {
  const lines: [string, LogLevel][] = [];
  const log = createLogger({
    level: "info",
    write: (line, level) => lines.push([line, level]),
    now: () => new Date("2026-11-24T00:00:00.000Z"),
  });

  await t.step("write one JSON object per event, at or above the level", () => {
    log.debug("hidden", { a: 1 });
    log.info("socket.open", { connection: "c1", room: "lobby" });
    log.warn("upgrade.refused", { reason: "origin" });
    assert.deepEqual(lines.map(([line]) => JSON.parse(line)), [
      {
        time: "2026-11-24T00:00:00.000Z",
        level: "info",
        event: "socket.open",
        connection: "c1",
        room: "lobby",
      },
      {
        time: "2026-11-24T00:00:00.000Z",
        level: "warn",
        event: "upgrade.refused",
        reason: "origin",
      },
    ]);
    assert.deepEqual(lines.map(([, level]) => level), ["info", "warn"]);
  });

  await t.step("describe errors by name and message", () => {
    lines.length = 0;
    log.error("request.failed", { error: new TypeError("boom") });
    const record = JSON.parse(lines[0]?.[0] ?? "{}");
    assert.equal(record.error.name, "TypeError");
    assert.equal(record.error.message, "boom");
    assert.match(record.error.stack, /boom/);
  });

  await t.step(
    "describe an error that says the process is out of file descriptors without its stack",
    () => {
      lines.length = 0;
      const error = new Error(
        "Too many open files (os error 24): readfile '/proc/self/stat'",
      );
      log.warn("server.launcher_watch_failed", { error });
      const record = JSON.parse(lines[0]?.[0] ?? "{}");
      assert.deepEqual(record.error, {
        name: "Error",
        message: error.message,
      });
    },
  );

  await t.step("LOG_LEVEL=error keeps only errors", () => {
    const kept: string[] = [];
    const quiet = createLogger({
      level: "error",
      write: (line) => kept.push(line),
    });
    quiet.info("x");
    quiet.warn("y");
    quiet.error("z");
    assert.deepEqual(kept.map((line) => JSON.parse(line).event), ["z"]);
  });
});

Deno.test("info lines of one turn are written together, warnings at once after them", async () => {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (text: string) => out.push(text);
  console.error = (text: string) => err.push(text);
  try {
    const logger = createLogger({ level: "info" });
    logger.info("first");
    logger.info("second");
    assert.equal(out.length, 0, "nothing written within the turn");
    await Promise.resolve();
    assert.equal(out.length, 1, "one write for both");
    assert.deepEqual(
      out[0]?.split("\n").map((line) => JSON.parse(line).event),
      ["first", "second"],
    );
    logger.info("third");
    logger.warn("careful");
    assert.deepEqual(
      out.slice(1).map((text) => JSON.parse(text).event),
      ["third"],
      "what waited is written before the warning",
    );
    assert.deepEqual(err.map((text) => JSON.parse(text).event), ["careful"]);
  } finally {
    console.log = log;
    console.error = error;
  }
});
