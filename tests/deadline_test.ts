import assert from "node:assert/strict";
import { DeadlineError, finishedWithin, within } from "../platform/deadline.ts";

Deno.test("within() races work against a deadline and leaves no timer behind", async (t) => {
  await t.step("work that finishes in time gives its value", async () => {
    assert.equal(await within(Promise.resolve(7), 10_000, "seven"), 7);
  });

  await t.step("work that fails in time gives its error", async () => {
    await assert.rejects(
      within(Promise.reject(new RangeError("bad")), 10_000, "bad work"),
      RangeError,
    );
  });

  await t.step(
    "work that never ends is named in the deadline error",
    async () => {
      const never = new Promise<never>(() => {});
      await assert.rejects(within(never, 1, "the store"), (error) => {
        assert.ok(error instanceof DeadlineError);
        assert.equal(error.what, "the store");
        assert.equal(error.message, "the store did not answer within 1 ms");
        return true;
      });
    },
  );
});

Deno.test("finishedWithin() says whether the work finished in time", async (t) => {
  await t.step("true for work that finished", async () => {
    assert.equal(await finishedWithin(Promise.resolve(), 10_000), true);
  });

  await t.step("false for work that did not", async () => {
    assert.equal(await finishedWithin(new Promise(() => {}), 1), false);
  });

  await t.step("the work's own failure still reaches the caller", async () => {
    await assert.rejects(
      finishedWithin(Promise.reject(new RangeError("bad")), 10_000),
      RangeError,
    );
  });
});
