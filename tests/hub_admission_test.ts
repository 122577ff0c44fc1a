import assert from "node:assert/strict";
import { isolates, recorder } from "../testkit/hub.ts";
import { CloseCode } from "../client/protocol.js";
import { waitUntil } from "../testkit/server.ts";

Deno.test("hub: admission", async (t) => {
  await t.step(
    "a guest whose picked name is online gets another name, not a refusal",
    async () => {
      await using world = await isolates(1);
      const { hub, lobby } = world;
      const first = recorder("first");
      await hub.connect({
        room: lobby,
        user: "guest-0001",
        member: first,
        owner: "browser:a",
      })
        .ready;
      // The second guest's server-picked name clashes with the first's,
      // and so does the next one picked; the third pick is free.
      const picks = ["guest-0001", "guest-0002"];
      const second = recorder("second");
      const membership = hub.connect({
        room: lobby,
        user: "guest-0001",
        member: second,
        owner: "browser:b",
        pickName: () => picks.shift() ?? "guest-0003",
      });
      await membership.ready;
      assert.equal(membership.user, "guest-0002");
      assert.equal(second.frames("presence")[0]?.you, "guest-0002");
      assert.deepEqual(second.texts.filter((t) => t.includes('"close"')), []);
      assert.deepEqual(hub.stats(), { rooms: 1, members: 2 });
    },
  );

  await t.step(
    "a chosen name that is online is refused, and so is a guest after eight clashes",
    async () => {
      await using world = await isolates(1);
      const { hub, lobby } = world;
      await hub.connect({
        room: lobby,
        user: "alice",
        member: recorder("a"),
        owner: "browser:a",
      })
        .ready;
      const chooser = recorder("chooser");
      await hub.connect({
        room: lobby,
        user: "alice",
        member: chooser,
        owner: "browser:b",
      }).ready;
      assert.equal(chooser.frames()[0]?.close, CloseCode.NameTaken);
      let picks = 0;
      const unlucky = recorder("unlucky");
      await hub.connect({
        room: lobby,
        user: "alice",
        member: unlucky,
        owner: "browser:c",
        pickName: () => {
          picks++;
          return "alice";
        },
      }).ready;
      assert.equal(picks, 7, "the first name and seven more picks");
      assert.equal(unlucky.frames()[0]?.close, CloseCode.NameTaken);
      assert.deepEqual(hub.stats(), { rooms: 1, members: 1 });
    },
  );

  await t.step(
    "each admission waits for its turn from the pacer, one after another",
    async () => {
      const turns: (() => void)[] = [];
      await using world = await isolates(1, {
        paceAdmission: () => new Promise((resolve) => turns.push(resolve)),
      });
      const { hub, lobby } = world;
      const ann = recorder("ann");
      const ben = recorder("ben");
      const first =
        hub.connect({ room: lobby, user: "ann", member: ann }).ready;
      const second =
        hub.connect({ room: lobby, user: "ben", member: ben }).ready;
      await waitUntil(() => turns.length === 1, "ann's admission asks");
      assert.deepEqual(ann.texts, [], "nothing before its turn");
      turns.shift()?.();
      await first;
      assert.deepEqual(ann.frames().map((f) => f.type), [
        "history",
        "presence",
      ]);
      await waitUntil(() => turns.length === 1, "ben's admission asks");
      assert.deepEqual(ben.texts, [], "the next waits for a turn of its own");
      turns.shift()?.();
      await second;
      assert.deepEqual(ben.frames("presence")[0]?.count, 2);
    },
  );
});
