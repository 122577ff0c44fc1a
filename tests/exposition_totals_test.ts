import assert from "node:assert/strict";
import {
  counterRate,
  expositionTotals,
} from "../observability/exposition_totals.ts";

Deno.test("exposition totals", async (t) => {
  await t.step(
    "sum a family's samples over its labels and skip comments",
    () => {
      const totals = expositionTotals(
        [
          "# HELP chat_messages_rejected_total Client frames refused.",
          "# TYPE chat_messages_rejected_total counter",
          'chat_messages_rejected_total{reason="too_long"} 2',
          'chat_messages_rejected_total{reason="rate_limited"} 3',
          "process_open_fds 41",
          "chat_store_seconds_sum 0.25",
          "weird_value NaN",
          "",
        ].join("\n"),
      );
      assert.equal(totals.get("chat_messages_rejected_total"), 5);
      assert.equal(totals.get("process_open_fds"), 41);
      assert.equal(totals.get("chat_store_seconds_sum"), 0.25);
      assert.equal(totals.has("weird_value"), false);
    },
  );

  await t.step(
    "a counter's rate is taken over at least a window, once there is one",
    () => {
      const rate = counterRate(1000);
      assert.equal(rate(100, 0), undefined);
      assert.equal(rate(100, 0), undefined, "no time passed");
      assert.equal(rate(150, 500), 100, "the first rate, over what there was");
      assert.equal(rate(200, 1000), 100, "too soon: the last rate again");
      assert.equal(rate(300, 2000), 100);
      assert.equal(rate(400, 2500), 100, "too soon: the last rate again");
      assert.equal(rate(10, 4000), 100, "a counter that restarted starts over");
      assert.equal(rate(30, 6000), 10);
    },
  );
});
