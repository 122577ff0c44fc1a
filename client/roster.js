/**
 * Who is online in the room, as the client keeps it: the whole list from
 * each `presence` frame, then joins, leaves and renames applied in the
 * order they arrive, each as "now online" or "now gone" rather than as a
 * count (docs/protocol.md says why a client may hear of a join of someone
 * it lists already). The map is replaced on each change, never mutated,
 * so a reader can keep the one it was given.
 *
 * @module
 */

/** The online list and how many are online in all. */
export class Roster {
  /** Name → `{ connections, verified }`. */
  online = new Map();
  /** Online in all; a presence frame lists the first names only. */
  count = 0;

  /** Takes the whole list of a `presence` frame. */
  replace(frame) {
    const online = new Map();
    for (const user of Array.isArray(frame.users) ? frame.users : []) {
      if (typeof user?.name !== "string") continue;
      online.set(user.name, {
        connections: Number.isInteger(user.connections) ? user.connections : 1,
        verified: user.verified === true,
      });
    }
    this.online = online;
    this.count = Number.isInteger(frame.count) ? frame.count : online.size;
  }

  /** Applies a change from `presenceChangeOf` (frames.js). */
  apply({ joined = [], left = [], renamed = [], verified = [] }) {
    const online = new Map(this.online);
    let count = this.count;
    const add = (name, signed) => {
      if (!online.has(name)) count += 1;
      online.set(name, {
        connections: 1,
        ...online.get(name),
        verified: signed,
      });
    };
    const remove = (name) => {
      if (online.delete(name) || count > online.size) count -= 1;
    };
    for (const name of joined) add(name, verified.includes(name));
    for (const name of left) remove(name);
    for (const { from, to, verified: signed } of renamed) {
      remove(from);
      add(to, signed);
    }
    this.online = online;
    this.count = Math.max(count, online.size);
    return { joined, left, renamed };
  }
}
