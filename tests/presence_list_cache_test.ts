import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import fc from "fast-check";
import { compareNames } from "../adapters/sqlite/presence_list_cache.ts";
import { parseRoomName, type RoomName } from "../chat/room_name.ts";
import { openSqliteStore } from "../adapters/sqlite/store.ts";
import type { PresentUser } from "../chat/store.ts";
import { sqliteOptions } from "../testkit/defaults.ts";

function room(name: string): RoomName {
  const parsed = parseRoomName(name);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.name;
}

const TTL_MS = 1000;
const ROOMS = [room("left"), room("right")];
// Names whose UTF-16 order differs from their code point order (U+FF5A
// against U+1F600), and more names than the shortest lists hold.
const NAMES = ["a", "b", "c", "d", "é", "\uFF5A", "😀", "𝒜"];
const NODES = ["n1", "n2"];

/** What the presence table holds, read afresh by another connection. */
function freshRead(db: DatabaseSync, at: RoomName, limit: number, now: number) {
  const users = db.prepare(
    `SELECT user, SUM(connections) AS connections,
       MAX(owner LIKE 'signed:%') AS verified FROM presence
     WHERE room = ? AND seen_at > ? GROUP BY user ORDER BY user LIMIT ?`,
  ).all(at, now - TTL_MS, limit).map((row): PresentUser => ({
    name: String(row.user),
    connections: Number(row.connections),
    verified: Number(row.verified) === 1,
  }));
  const count = Number(
    db.prepare(
      `SELECT COUNT(DISTINCT user) AS n FROM presence
       WHERE room = ? AND seen_at > ? AND connections > 0`,
    ).get(at, now - TTL_MS)?.n,
  );
  return { users, count };
}

type Step =
  | { kind: "join"; room: number; name: number; node: number; signed: boolean }
  | { kind: "leave"; room: number; name: number; node: number }
  | { kind: "heartbeat"; node: number }
  | { kind: "sweep" }
  | { kind: "wait"; ms: number }
  | { kind: "foreign"; room: number; name: number; connections: number }
  | { kind: "check"; room: number; limit: number };

const index = (length: number) => fc.integer({ min: 0, max: length - 1 });
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("join" as const),
      room: index(ROOMS.length),
      name: index(NAMES.length),
      node: index(NODES.length),
      signed: fc.boolean(),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("leave" as const),
      room: index(ROOMS.length),
      name: index(NAMES.length),
      node: index(NODES.length),
    }),
  },
  fc.record({ kind: fc.constant("heartbeat" as const), node: index(2) }),
  fc.record({ kind: fc.constant("sweep" as const) }),
  fc.record({
    kind: fc.constant("wait" as const),
    ms: fc.integer({ min: 1, max: 1200 }),
  }),
  fc.record({
    kind: fc.constant("foreign" as const),
    room: index(ROOMS.length),
    name: index(NAMES.length),
    connections: fc.integer({ min: 0, max: 2 }),
  }),
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("check" as const),
      room: index(ROOMS.length),
      limit: fc.integer({ min: 1, max: 5 }),
    }),
  },
);

Deno.test("presence lists kept between reads", async (t) => {
  await t.step("names sort by code point, as SQLite sorts them", () => {
    const sorted = [...NAMES].sort(compareNames);
    assert.deepEqual(sorted, ["a", "b", "c", "d", "é", "\uFF5A", "𝒜", "😀"]);
  });

  await t.step(
    "a leave of a name already gone stale does not lower the count",
    async () => {
      let clock = 1_000_000;
      const store = openSqliteStore(
        sqliteOptions(":memory:", { presenceTtlMs: TTL_MS, now: () => clock }),
      );
      const at = ROOMS[0]!;
      await store.presence.join({
        room: at,
        user: "x",
        node: "n1",
        owner: "X",
      });
      clock += TTL_MS; // x's node stopped refreshing it
      await store.presence.join({
        room: at,
        user: "y",
        node: "n1",
        owner: "Y",
      });
      assert.equal(await store.presence.count(at), 1);
      await store.presence.leave(at, "x", "n1");
      assert.equal(await store.presence.count(at), 1, "y is still online");
      await store.close();
    },
  );

  await t.step(
    "list and count always answer what a fresh read of the table does",
    async () => {
      const dir = await Deno.makeTempDir();
      let clock = 1_000_000;
      const store = openSqliteStore(
        sqliteOptions(`${dir}/chat.db`, {
          presenceTtlMs: TTL_MS,
          now: () => clock,
        }),
      );
      // Another connection: the reference, and a writer the store must
      // notice (as another isolate would be).
      const other = new DatabaseSync(`${dir}/chat.db`);
      const foreignWrite = other.prepare(
        `INSERT INTO presence (room, user, node, owner, connections, seen_at)
         VALUES (?, ?, 'foreign', 'F', ?, ?)
         ON CONFLICT (room, user, node) DO UPDATE
         SET connections = excluded.connections, seen_at = excluded.seen_at`,
      );
      const foreignDrop = other.prepare(
        "DELETE FROM presence WHERE room = ? AND user = ? AND node = 'foreign'",
      );
      /** This store's own open connections, as a node counts them. */
      const open = new Map<string, number>();
      const key = (r: number, n: number, node: number) => `${r} ${n} ${node}`;
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(step, { maxLength: 80 }), async (steps) => {
            const { presence } = store;
            // Each run from an empty table (written by the other connection,
            // so the store drops what it kept).
            other.exec("DELETE FROM presence");
            open.clear();
            for (const s of steps) {
              if (s.kind === "join") {
                const at = ROOMS[s.room]!;
                const owner = s.signed ? "signed:x" : `owner-${s.name}`;
                const result = await presence.join({
                  room: at,
                  user: NAMES[s.name]!,
                  node: NODES[s.node]!,
                  owner,
                });
                if (!result.taken) {
                  const k = key(s.room, s.name, s.node);
                  open.set(k, (open.get(k) ?? 0) + 1);
                }
              } else if (s.kind === "leave") {
                const k = key(s.room, s.name, s.node);
                if (!open.get(k)) continue;
                open.set(k, open.get(k)! - 1);
                await presence.leave(
                  ROOMS[s.room]!,
                  NAMES[s.name]!,
                  NODES[s.node]!,
                );
              } else if (s.kind === "heartbeat") {
                const node = s.node;
                const entries = [...open].flatMap(([k, connections]) => {
                  const [r, n, owner] = k.split(" ").map(Number);
                  return owner === node && connections > 0
                    ? [{
                      room: ROOMS[r!]!,
                      user: NAMES[n!]!,
                      owner: `owner-${n}`,
                      connections,
                    }]
                    : [];
                });
                await presence.heartbeat(NODES[node]!, entries);
              } else if (s.kind === "sweep") {
                await presence.sweep();
              } else if (s.kind === "wait") {
                clock += s.ms;
              } else if (s.kind === "foreign") {
                const at = ROOMS[s.room]!;
                if (s.connections === 0) foreignDrop.run(at, NAMES[s.name]!);
                else {
                  foreignWrite.run(at, NAMES[s.name]!, s.connections, clock);
                }
              } else {
                const at = ROOMS[s.room]!;
                assert.deepEqual(
                  {
                    users: await presence.list(at, { limit: s.limit }),
                    count: await presence.count(at),
                  },
                  freshRead(other, at, s.limit, clock),
                );
              }
            }
            // Whatever came before, every list agrees at the end.
            for (const at of ROOMS) {
              for (const limit of [1, 3, NAMES.length]) {
                assert.deepEqual(
                  {
                    users: await presence.list(at, { limit }),
                    count: await presence.count(at),
                  },
                  freshRead(other, at, limit, clock),
                );
              }
            }
          }),
          { numRuns: 300 },
        );
      } finally {
        other.close();
        await store.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
});
