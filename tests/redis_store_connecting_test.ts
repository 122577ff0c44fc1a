import assert from "node:assert/strict";
import { openRedisStore } from "../adapters/redis/store.ts";
import { StoreError } from "../chat/store.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import { freePort } from "../testkit/process.ts";
import { recordingLogger } from "../testkit/server.ts";
import { message, options, room } from "../testkit/redis_store.ts";

Deno.test({
  name: "redis store: connecting",
  ignore: ignoreWithoutRedis,
  async fn(t) {
    await t.step(
      "an unreachable Redis is one error naming it, without the password",
      async () => {
        const port = freePort();
        await assert.rejects(
          openRedisStore(options(`redis://:hunter2@127.0.0.1:${port}/3`)),
          (error: unknown) => {
            assert.ok(error instanceof StoreError);
            assert.equal(error.kind, "unreachable");
            assert.match(
              error.message,
              new RegExp(
                `^Redis at redis://127\\.0\\.0\\.1:${port}/3 is unreachable`,
              ),
            );
            assert.ok(!error.message.includes("hunter2"));
            return true;
          },
        );
      },
    );

    await t.step(
      "a password and a database number in the URL are used, never logged",
      async () => {
        await using redis = await startRedis({ password: "s3cret-pass" });
        const log = recordingLogger();
        const url = `redis://:s3cret-pass@127.0.0.1:${redis.port}/5`;
        const store = await openRedisStore({ ...options(url), log });
        try {
          await store.messages.append(room("db5"), message("hello"));
          assert.equal((await store.messages.bounds(room("db5"))).last, 1);
        } finally {
          await store.close();
        }
        await assert.rejects(
          openRedisStore(
            options(`redis://:wrong-pass@127.0.0.1:${redis.port}/5`),
          ),
          (error: unknown) =>
            error instanceof StoreError &&
            !error.message.includes("wrong-pass"),
        );
        assert.ok(!JSON.stringify(log.events).includes("s3cret-pass"));
      },
    );
  },
});
