import assert from "node:assert/strict";
import {
  MAX_TIMEOUT_MS,
  setLongTimeout,
  type TimerHost,
} from "../chat/long_timer.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** A clock that moves only when told, with the timers set on it. */
class FakeTimers implements TimerHost<number> {
  #now = 0;
  #next = 1;
  readonly #pending = new Map<number, { at: number; task: () => void }>();
  /** Every delay asked of `setTimeout`. */
  readonly delays: number[] = [];

  now(): number {
    return this.#now;
  }

  setTimeout(task: () => void, ms: number): number {
    this.delays.push(ms);
    const id = this.#next++;
    // What setTimeout does with a delay it cannot keep: fire at once.
    const at = ms > MAX_TIMEOUT_MS ? this.#now : this.#now + ms;
    this.#pending.set(id, { at, task });
    return id;
  }

  clearTimeout(id: number): void {
    this.#pending.delete(id);
  }

  get pending(): number {
    return this.#pending.size;
  }

  /** Moves the clock by `ms`, running each timer that comes due, in order. */
  advance(ms: number): void {
    const until = this.#now + ms;
    while (true) {
      const due = [...this.#pending].filter(([, timer]) => timer.at <= until)
        .sort(([, a], [, b]) => a.at - b.at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.#pending.delete(id);
      this.#now = timer.at;
      timer.task();
    }
    this.#now = until;
  }
}

Deno.test("setLongTimeout", async (t) => {
  await t.step("a delay of a year fires after a year, not before", () => {
    const timers = new FakeTimers();
    let fired = 0;
    setLongTimeout(() => fired++, 365 * DAY_MS, timers);
    timers.advance(365 * DAY_MS - 1);
    assert.equal(fired, 0);
    timers.advance(1);
    assert.equal(fired, 1);
    assert.ok(timers.delays.every((ms) => ms <= MAX_TIMEOUT_MS));
    assert.equal(timers.pending, 0);
  });

  await t.step("a delay setTimeout keeps is one timer", () => {
    const timers = new FakeTimers();
    let fired = 0;
    setLongTimeout(() => fired++, 60_000, timers);
    assert.deepEqual(timers.delays, [60_000]);
    timers.advance(60_000);
    assert.equal(fired, 1);
  });

  await t.step("a delay in the past, or not a number, fires at once", () => {
    const timers = new FakeTimers();
    let fired = 0;
    setLongTimeout(() => fired++, -5_000, timers);
    setLongTimeout(() => fired++, NaN, timers);
    assert.deepEqual(timers.delays, [0, 0]);
    timers.advance(0);
    assert.equal(fired, 2);
  });

  await t.step("cancelling stops it at any hop", () => {
    const timers = new FakeTimers();
    let fired = 0;
    const cancel = setLongTimeout(() => fired++, 60 * DAY_MS, timers);
    timers.advance(30 * DAY_MS);
    cancel();
    timers.advance(60 * DAY_MS);
    assert.equal(fired, 0);
    assert.equal(timers.pending, 0);
  });

  await t.step(
    "on the real timers, a year's delay has not fired when an overflowing marker set after it does",
    async () => {
      let fired = false;
      const cancel = setLongTimeout(() => (fired = true), 365 * DAY_MS);
      // A delay past 2^31 - 1 ms fires at once, in the order it was set: a
      // marker that overflows on purpose, set second, fires after an
      // overflowing timer set first would have.
      await new Promise((resolve) => setTimeout(resolve, 2 ** 31));
      cancel();
      assert.equal(fired, false);
    },
  );
});
