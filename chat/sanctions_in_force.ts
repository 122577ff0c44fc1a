/**
 * The mutes and bans in force as one isolate knows them, and carrying them
 * out on its sockets: a ban closes the sockets it applies to with
 * `CloseCode.Banned`, a mute tells them `muted` and its end `unmuted`. Kept
 * in memory so that a muted sender is refused without a store round trip
 * per frame; kept current by the moderation events of the bus and a
 * periodic reload (`moderation.ts`).
 *
 * @module
 */

import { CloseCode } from "../client/protocol.js";
import type { Logger } from "./logger.ts";
import {
  applies,
  banCloseReason,
  type ModerationEvent,
} from "./moderation_events.ts";
import type { MutedFrame, UnmutedFrame } from "./moderation_frames.ts";
import type {
  ModerationStore,
  Sanction,
  SanctionSubject,
  SanctionTarget,
} from "./moderation_store.ts";
import { longest } from "./moderation_records.ts";
import type { ModeratedSocket } from "./moderation_targets.ts";
import type { RoomName } from "./room_name.ts";

/** What {@linkcode SanctionsInForce} needs. */
export interface SanctionsInForceOptions {
  /** Where a guest's address is added to a sanction. */
  readonly store: Pick<ModerationStore, "addAddress">;
  /** Tells the other isolates (a sanction widened by an address). */
  readonly publish: (event: ModerationEvent) => void;
  readonly now: () => Date;
  readonly log: Logger;
}

/** One isolate's sanctions in force and its sockets they may apply to. */
export class SanctionsInForce {
  readonly #options: SanctionsInForceOptions;
  /** This isolate's sockets, as moderation reaches them. */
  readonly sockets = new Set<ModeratedSocket>();
  /** The sanctions in force as this isolate last heard, by id. */
  readonly #inForce = new Map<string, Sanction>();
  /** The mutes among them, read per frame. */
  readonly #mutes = new Map<string, Sanction>();

  constructor(options: SanctionsInForceOptions) {
    this.#options = options;
  }

  /** The mute of `subject` in `room` now, if any; the longest of several. */
  mutedIn(room: RoomName, subject: SanctionSubject): Sanction | undefined {
    if (this.#mutes.size === 0) return undefined;
    return this.#applying(this.#mutes.values(), room, subject);
  }

  /** The ban of `subject` in `room` now, as this isolate last heard. */
  bannedIn(room: RoomName, subject: SanctionSubject): Sanction | undefined {
    const bans = [...this.#inForce.values()].filter((s) => s.kind === "ban");
    return this.#applying(bans, room, subject);
  }

  #applying(
    sanctions: Iterable<Sanction>,
    room: RoomName,
    subject: SanctionSubject,
  ): Sanction | undefined {
    const now = this.#options.now();
    return longest(
      [...sanctions].filter((sanction) =>
        applies(sanction, room, subject, now)
      ),
    );
  }

  /**
   * Replaces what is known with `sanctions` (read from the store): those
   * new here are carried out, those gone (lifted, expired) forgotten.
   */
  async reload(sanctions: readonly Sanction[]): Promise<void> {
    const seen = new Set(sanctions.map((sanction) => sanction.id));
    for (const id of [...this.#inForce.keys()]) {
      if (!seen.has(id)) this.forget(id);
    }
    for (const sanction of sanctions) {
      const known = this.#inForce.get(sanction.id);
      if (
        !known ||
        known.target.addresses.length !== sanction.target.addresses.length
      ) await this.learn(sanction);
    }
  }

  /**
   * Keeps `sanction` in memory and carries it out on the local sockets it
   * applies to: a ban closes them, a new mute tells them. A guest's address
   * joins the sanction first, so that a reconnect from it is refused.
   */
  async learn(sanction: Sanction): Promise<void> {
    const now = this.#options.now();
    const fresh = !this.#inForce.has(sanction.id);
    this.#remember(sanction);
    const hit = [...this.sockets].filter((socket) =>
      applies(sanction, socket.room, socket.subject, now)
    );
    // Out of reach at once: an event and a reload of the same ban, both
    // on their way, close each socket once.
    if (sanction.kind === "ban") {
      for (const socket of hit) this.sockets.delete(socket);
    }
    let target: SanctionTarget = sanction.target;
    for (const { subject } of hit) {
      if (!subject.guest || target.addresses.includes(subject.address)) {
        continue;
      }
      try {
        await this.#options.store.addAddress(sanction.id, subject.address);
        target = {
          ...target,
          addresses: [...target.addresses, subject.address],
        };
      } catch (error) {
        this.#options.log.error("moderation.add_address_failed", { error });
      }
    }
    if (target !== sanction.target) {
      const widened: Sanction = { ...sanction, target };
      this.#remember(widened);
      this.#options.publish({ type: "sanction", sanction: widened });
    }
    for (const socket of hit) {
      if (sanction.kind === "ban") {
        socket.close(CloseCode.Banned, banCloseReason(sanction));
      } else if (fresh && socket.typed) {
        const frame: MutedFrame = {
          type: "muted",
          room: socket.room,
          until: sanction.until,
          reason: sanction.reason,
        };
        socket.deliver(JSON.stringify(frame));
      }
    }
  }

  /** Forgets sanction `id`; the sockets a lifted mute held are told. */
  forget(id: string): void {
    const sanction = this.#inForce.get(id);
    this.#inForce.delete(id);
    this.#mutes.delete(id);
    if (sanction?.kind !== "mute") return;
    // Judged as if it were still in force: its `until` may just have passed.
    const held: Sanction = { ...sanction, until: null };
    const now = this.#options.now();
    for (const socket of this.sockets) {
      if (!socket.typed || !applies(held, socket.room, socket.subject, now)) {
        continue;
      }
      if (this.mutedIn(socket.room, socket.subject)) continue;
      const frame: UnmutedFrame = { type: "unmuted", room: socket.room };
      socket.deliver(JSON.stringify(frame));
    }
  }

  #remember(sanction: Sanction): void {
    this.#inForce.set(sanction.id, sanction);
    if (sanction.kind === "mute") this.#mutes.set(sanction.id, sanction);
  }
}
