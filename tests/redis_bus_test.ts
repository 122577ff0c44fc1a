import assert from "node:assert/strict";
import { openRedisBus } from "../adapters/redis/bus.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import { room } from "../testkit/redis_store.ts";

Deno.test({
  name: "redis bus",
  ignore: ignoreWithoutRedis,
  async fn(t) {
    await using redis = await startRedis();

    await t.step(
      "a room's subscribers elsewhere get what is published; the sender does not",
      async () => {
        const a = await openRedisBus({ url: new URL(redis.url) });
        const b = await openRedisBus({ url: new URL(redis.url) });
        try {
          const lobby = room("lobby");
          const atA: unknown[] = [];
          const atB: unknown[] = [];
          const other: unknown[] = [];
          const arrived = Promise.withResolvers<void>();
          const subA = a.subscribe(lobby, (data) => atA.push(data));
          const subB = b.subscribe(lobby, (data) => {
            atB.push(data);
            if (data === "marker") arrived.resolve();
          });
          const subOther = b.subscribe(room("other"), (d) => other.push(d));
          await Promise.all([subA.live, subB.live, subOther.live]);
          await a.publish(lobby, "hello\nwith a newline");
          await a.publish(lobby, "marker");
          await arrived.promise;
          assert.deepEqual(atB, ["hello\nwith a newline", "marker"]);
          assert.deepEqual(atA, []);
          assert.deepEqual(other, []);
          subA.close();
          subB.close();
          subOther.close();
          await a.ping();
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      },
    );
  },
});
