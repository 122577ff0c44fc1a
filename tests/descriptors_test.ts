/**
 * The descriptor reserve (platform/descriptors.ts): it lends its descriptors to
 * synchronous work and takes them back, and on a main thread with no other
 * descriptor free it lets `/proc` be read and a stack be formatted through
 * a module whose stack was never formatted before, which Deno 2.9.6 turns
 * into a panic otherwise.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DescriptorReserve,
  RESERVED_DESCRIPTORS,
} from "../platform/descriptors.ts";

Deno.test("the reserve lends its descriptors to synchronous work and takes them back", () => {
  const reserve = new DescriptorReserve();
  try {
    assert.equal(reserve.held, 0, "nothing held until asked");
    assert.equal(reserve.keep(3), true);
    assert.equal(reserve.held, 3);
    const during = reserve.spend(() => reserve.held);
    assert.equal(during, 0, "closed while the work runs");
    assert.equal(reserve.held, 3, "taken back after it");
    assert.throws(() =>
      reserve.spend(() => {
        throw new Error("the work failed");
      }), /the work failed/);
    assert.equal(reserve.held, 3, "taken back after a failure too");
  } finally {
    reserve.release();
  }
  assert.equal(reserve.held, 0);
});

Deno.test("with no other descriptor free, the main thread reads /proc and formats stacks", async () => {
  const fixture =
    new URL("./fixtures/descriptors_flood.ts", import.meta.url).pathname;
  const deno = Deno.execPath().replaceAll("'", "'\\''");
  const child = new Deno.Command("sh", {
    args: ["-c", `ulimit -n 64 && exec '${deno}' run -A '${fixture}'`],
    // Deno opens its on-disk caches (SQLite) on threads of its own and may
    // close some of their files while the fixture runs, freeing descriptors
    // it has taken. A DENO_DIR that cannot exist keeps them in memory.
    env: { NO_COLOR: "1", DENO_DIR: "/dev/null/deno" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const { code, stdout, stderr } = await child.output();
  const printed = new TextDecoder().decode(stdout);
  const problems = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `${printed}${problems}`);
  const lines = printed.trim().split("\n");
  assert.equal(lines[0], "descriptors free: false");
  assert.match(lines[1] ?? "", /^without the reserve: .*os error 24/);
  // sh started the fixture in its own place (exec): the pid it read.
  assert.equal(lines[2], `with it: ${child.pid}`);
  assert.equal(lines[3], "stack: true");
  assert.equal(lines[4], `reserve held again: ${RESERVED_DESCRIPTORS}`);
  assert.equal(lines.at(-1), "still running");
  const logged = JSON.parse(problems.trim().split("\n").at(-1) ?? "{}");
  assert.equal(logged.event, "fixture.out_of_descriptors");
  assert.equal(logged.error.stack, undefined, "logged without its stack");
});
