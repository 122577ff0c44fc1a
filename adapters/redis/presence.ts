/**
 * The {@linkcode PresenceStore} in Redis. Each node (isolate) keeps its own
 * counts in a hash that its heartbeat rewrites, and its liveness as a score
 * (expiry time) in one sorted set; a node that stops without saying so is
 * swept by the next heartbeat of any node once its expiry passes, and the
 * users who left with it are returned for announcement. Every change runs
 * as one Lua script, so counts stay consistent across processes.
 *
 * The scripts and the keys they use are in presence_scripts.ts.
 *
 * @module
 */

import { nameKey } from "../../chat/name_key.ts";
import type { RedisConnection } from "./connection.ts";
import type { RedisOutboxWriter } from "./outbox.ts";
import {
  HEARTBEAT,
  JOIN,
  LEAVE,
  LIST,
  REMOVE_NODE,
  SWEEP,
} from "./presence_scripts.ts";
import { parseRoomName, type RoomName } from "../../chat/room_name.ts";
import {
  type Departure,
  type OnlineRoom,
  type PresenceStore,
  type PresentUser,
  StoreError,
} from "../../chat/store.ts";

/** What {@linkcode openRedisPresence} needs. */
export interface RedisPresenceOptions {
  readonly redis: RedisConnection;
  readonly prefix: string;
  /** How long the entries of a silent node count, in ms. */
  readonly ttlMs: number;
  /** Where webhook events go, in the same scripts; none when off. */
  readonly outbox?: RedisOutboxWriter;
}

function roomOf(text: string): RoomName {
  const parsed = parseRoomName(text);
  if (parsed.ok) return parsed.name;
  throw new StoreError(`Redis holds an invalid room: ${parsed.error}`);
}

function pairs(reply: unknown, what: string): [string, string][] {
  if (!Array.isArray(reply) || reply.length % 2 !== 0) {
    throw new StoreError(`Redis returned a malformed ${what}`);
  }
  const result: [string, string][] = [];
  for (let index = 0; index < reply.length; index += 2) {
    const first = reply[index];
    const second = reply[index + 1];
    if (typeof first !== "string" || typeof second !== "string") {
      throw new StoreError(`Redis returned a malformed ${what}`);
    }
    result.push([first, second]);
  }
  return result;
}

function departures(reply: unknown): Departure[] {
  return pairs(reply, "list of departures").map(([room, user]) => ({
    room: roomOf(room),
    user,
  }));
}

function flag(reply: unknown, index: number, what: string): boolean {
  const value = Array.isArray(reply) ? reply[index] : reply;
  if (value !== 0 && value !== 1) {
    throw new StoreError(`Redis returned a malformed ${what} reply`);
  }
  return value === 1;
}

/** The presence half of the Redis store, on the store's connection. */
export function openRedisPresence(
  options: RedisPresenceOptions,
): PresenceStore {
  const { redis, prefix, outbox } = options;
  const common = [prefix, options.ttlMs];
  /** The webhook context of a script run now; '' when webhooks are off. */
  const events = () => outbox?.context(new Date()) ?? "";
  /** Runs a script that may write events, and wakes the sender after. */
  const writing = async <T>(run: Promise<T>): Promise<T> => {
    const reply = await run;
    outbox?.wrote();
    return reply;
  };
  return {
    async join({ room, user, node, owner, renaming }) {
      const reply = await writing(JOIN.run(redis, [], [
        ...common,
        room,
        user,
        node,
        owner,
        nameKey(user),
        events(),
        renaming ? "1" : "",
      ]));
      return flag(reply, 0, "join")
        ? { taken: true }
        : { taken: false, first: flag(reply, 1, "join") };
    },
    async leave(room, user, node, rename) {
      const reply = await writing(LEAVE.run(redis, [], [
        ...common,
        room,
        user,
        node,
        events(),
        rename ? JSON.stringify(rename) : "",
      ]));
      return { last: flag(reply, 0, "leave") };
    },
    async list(room, { limit, after = "" }): Promise<PresentUser[]> {
      if (limit <= 0) return [];
      const reply = await LIST.run(redis, [], [
        ...common,
        room,
        after,
        limit,
      ]);
      if (!Array.isArray(reply) || reply.length % 3 !== 0) {
        throw new StoreError("Redis returned a malformed presence list");
      }
      const users: PresentUser[] = [];
      for (let index = 0; index < reply.length; index += 3) {
        const [name, connections, verified] = reply.slice(index, index + 3);
        if (typeof name !== "string" || typeof connections !== "string") {
          throw new StoreError("Redis returned a malformed presence list");
        }
        users.push({
          name,
          connections: Number(connections),
          verified: verified === "1",
        });
      }
      return users;
    },
    async count(room) {
      const count = await redis.run(["ZCARD", `${prefix}names:${room}`]);
      if (typeof count !== "number") {
        throw new StoreError("Redis returned a malformed ZCARD reply");
      }
      return count;
    },
    async connections(room, user) {
      const count = await redis.run(["HGET", `${prefix}online:${room}`, user]);
      if (count === null) return 0;
      const connections = typeof count === "string" ? Number(count) : NaN;
      if (!Number.isSafeInteger(connections)) {
        throw new StoreError("Redis returned a malformed connection count");
      }
      return Math.max(0, connections);
    },
    async rooms(): Promise<OnlineRoom[]> {
      const counts = await redis.run(["HGETALL", `${prefix}online-rooms`]);
      return pairs(counts, "list of rooms")
        .map(([name, online]) => ({
          name: roomOf(name),
          online: Number(online),
        }))
        .filter(({ online }) => online > 0)
        .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    },
    async heartbeat(node, entries) {
      const list = entries.map((entry) => [
        entry.room,
        entry.user,
        entry.owner,
        entry.connections,
        nameKey(entry.user),
      ]);
      await HEARTBEAT.run(redis, [], [...common, node, JSON.stringify(list)]);
    },
    async sweep() {
      return departures(
        await writing(SWEEP.run(redis, [], [...common, events()])),
      );
    },
    async removeNode(node) {
      return departures(
        await writing(
          REMOVE_NODE.run(redis, [], [...common, node, events()]),
        ),
      );
    },
  };
}
