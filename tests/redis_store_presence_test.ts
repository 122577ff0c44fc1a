import assert from "node:assert/strict";
import { claimsIn } from "../testkit/presence_claim.ts";
import { NodePresence } from "../chat/presence.ts";
import { ignoreWithoutRedis, startRedis } from "../testkit/redis.ts";
import { room, usingStores } from "../testkit/redis_store.ts";

Deno.test({
  name: "redis store: presence",
  ignore: ignoreWithoutRedis,
  async fn(t) {
    await using redis = await startRedis();

    await t.step(
      "first and last connection of a name, over nodes",
      async () => {
        await usingStores(redis.url, 2, async ([a, b]) => {
          assert.ok(a && b);
          const r = room("presence");
          const claim = claimsIn(r);
          assert.deepEqual(
            await a.presence.join(claim("ann", "n1", "o1")),
            { taken: false, first: true },
          );
          assert.deepEqual(
            await b.presence.join(claim("ann", "n2", "o1")),
            { taken: false, first: false },
          );
          assert.deepEqual(
            await b.presence.join(claim("ann", "n2", "o2")),
            { taken: true },
          );
          assert.deepEqual(await a.presence.list(r, { limit: 10 }), [
            { name: "ann", connections: 2, verified: false },
          ]);
          assert.deepEqual(await a.presence.leave(r, "ann", "n1"), {
            last: false,
          });
          assert.deepEqual(await b.presence.leave(r, "ann", "n2"), {
            last: true,
          });
          assert.equal(await a.presence.count(r), 0);
          await a.presence.join(claim("signed-one", "n1", "signed:abc"));
          assert.deepEqual(await b.presence.list(r, { limit: 10 }), [
            { name: "signed-one", connections: 1, verified: true },
          ]);
          await a.presence.leave(r, "signed-one", "n1");
        });
      },
    );

    await t.step(
      "a name that looks like one online is refused to another owner, on any process",
      async () => {
        await usingStores(redis.url, 2, async ([a, b]) => {
          assert.ok(a && b);
          const r = room("lookalikes");
          const claim = claimsIn(r);
          assert.deepEqual(
            await a.presence.join(claim("alice", "n1", "o1")),
            { taken: false, first: true },
          );
          for (const like of ["Alice", "ALICE", "\u0391lice", "alice."]) {
            assert.deepEqual(
              await b.presence.join(claim(like, "n2", "o2")),
              { taken: true },
              like,
            );
          }
          // The same browser may hold both spellings in two tabs.
          assert.deepEqual(
            await b.presence.join(claim("Alice", "n2", "o1")),
            { taken: false, first: true },
          );
          // A heartbeat of another owner never adds a look-alike.
          await b.presence.heartbeat("n3", [
            { room: r, user: "ALICE", owner: "o2", connections: 1 },
          ]);
          assert.deepEqual(
            (await a.presence.list(r, { limit: 10 })).map((u) => u.name),
            ["Alice", "alice"],
          );
          await a.presence.leave(r, "alice", "n1");
          assert.deepEqual(
            await a.presence.join(claim("ALICE", "n4", "o2")),
            { taken: true },
            "Alice is still online",
          );
          await b.presence.leave(r, "Alice", "n2");
          assert.deepEqual(
            await a.presence.join(claim("ALICE", "n4", "o2")),
            { taken: false, first: true },
          );
          await a.presence.leave(r, "ALICE", "n4");
          await a.presence.removeNode("n3");
        });
      },
    );

    await t.step("lists page in name order; rooms count names", async () => {
      await usingStores(redis.url, 1, async ([store]) => {
        assert.ok(store);
        const r = room("paged");
        const claim = claimsIn(r);
        for (const name of ["dan", "bea", "cy", "ari", "가람"]) {
          await store.presence.join(claim(name, "n1", `owner-${name}`));
        }
        const names = async (after?: string) =>
          (await store.presence.list(r, {
            limit: 2,
            ...(after === undefined ? {} : { after }),
          })).map(({ name }) => name);
        assert.deepEqual(await names(), ["ari", "bea"]);
        assert.deepEqual(await names("bea"), ["cy", "dan"]);
        assert.deepEqual(await names("dan"), ["가람"]);
        assert.equal(await store.presence.count(r), 5);
        assert.deepEqual(
          (await store.presence.rooms()).find(({ name }) => name === r),
          { name: r, online: 5 },
        );
        await store.presence.removeNode("n1");
        assert.equal(await store.presence.count(r), 0);
      });
    });

    await t.step(
      "a silent node is swept after its TTL; its users are reported gone",
      async () => {
        await usingStores(redis.url, 1, async ([store]) => {
          assert.ok(store);
          const r = room("swept");
          const claim = claimsIn(r);
          await store.presence.join(claim("gone", "dead-node", "o-gone"));
          await store.presence.join(claim("stays", "live-node", "o-stays"));
          let departures: { room: string; user: string }[] = [];
          const deadline = Date.now() + 5000;
          while (departures.length === 0 && Date.now() < deadline) {
            await store.presence.heartbeat("live-node", [
              { room: r, user: "stays", owner: "o-stays", connections: 1 },
            ]);
            departures = await store.presence.sweep();
          }
          assert.deepEqual(departures, [{ room: r, user: "gone" }]);
          assert.deepEqual(await store.presence.list(r, { limit: 10 }), [
            { name: "stays", connections: 1, verified: false },
          ]);
        }, { presenceTtlMs: 200 });
      },
    );

    await t.step(
      "a heartbeat restores a node that was swept while it stalled",
      async () => {
        await usingStores(redis.url, 1, async ([store]) => {
          assert.ok(store);
          const r = room("restored");
          const claim = claimsIn(r);
          await store.presence.join(claim("slow", "stalled", "o-slow"));
          await store.presence.removeNode("stalled");
          assert.equal(await store.presence.count(r), 0);
          await store.presence.heartbeat("stalled", [
            { room: r, user: "slow", owner: "o-slow", connections: 2 },
          ]);
          assert.deepEqual(await store.presence.list(r, { limit: 10 }), [
            { name: "slow", connections: 2, verified: false },
          ]);
          assert.deepEqual(
            await store.presence.join(claim("slow", "x", "other")),
            { taken: true },
          );
          await store.presence.removeNode("stalled");
        });
      },
    );

    await t.step(
      "a heartbeat never counts a connection under a name another owner holds",
      async () => {
        await usingStores(redis.url, 1, async ([store]) => {
          assert.ok(store);
          const r = room("held");
          const claim = claimsIn(r);
          await store.presence.join(claim("ann", "n1", "o1"));
          // What a node whose claim of the name was refused, but which had
          // already counted it, would send.
          await store.presence.heartbeat("n2", [
            { room: r, user: "ann", owner: "o2", connections: 1 },
          ]);
          assert.deepEqual(await store.presence.list(r, { limit: 10 }), [
            { name: "ann", connections: 1, verified: false },
          ]);
          assert.deepEqual(await store.presence.leave(r, "ann", "n1"), {
            last: true,
          });
          assert.equal(await store.presence.count(r), 0);
          await store.presence.removeNode("n2");
        });
      },
    );

    await t.step(
      "a node's heartbeat sent while one of its joins is in flight keeps the name",
      async () => {
        await usingStores(redis.url, 1, async ([store]) => {
          assert.ok(store);
          const r = room("in-flight");
          const claim = claimsIn(r);
          const presence = new NodePresence({
            store: store.presence,
            heartbeatMs: 60_000,
            announce: () => {},
          });
          try {
            // Both go out on the one connection, the join first: the
            // heartbeat reaches Redis after it, before its answer is back.
            const joined = presence.join(r, "ann", "o1");
            const refreshed = presence.refresh();
            assert.deepEqual(await joined, { taken: false, first: true });
            await refreshed;
            assert.deepEqual(await store.presence.list(r, { limit: 10 }), [
              { name: "ann", connections: 1, verified: false },
            ]);
            // A refused claim in flight is not counted by the heartbeat.
            await store.presence.join(claim("bo", "another-node", "o-bo"));
            const refused = presence.join(r, "bo", "o2");
            const again = presence.refresh();
            assert.deepEqual(await refused, { taken: true });
            await again;
            await presence.refresh();
            assert.deepEqual(await store.presence.list(r, { limit: 10 }), [
              { name: "ann", connections: 1, verified: false },
              { name: "bo", connections: 1, verified: false },
            ]);
          } finally {
            await presence.close();
            await store.presence.removeNode("another-node");
          }
        });
      },
    );
  },
});
