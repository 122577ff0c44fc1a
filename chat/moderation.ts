/**
 * Moderation for one isolate's hub: who may moderate, and the mutes, bans
 * and moderator deletes that the server API and moderators' sockets ask
 * for. Sanctions live in the store (`moderation_store.ts`); every hub also
 * keeps those in force in memory, kept current by events on a bus channel
 * of their own and a periodic reload (a bus may drop), so that a muted
 * sender is refused without a store round trip per frame. A ban closes the
 * banned user's sockets wherever they are, with `CloseCode.Banned`.
 *
 * @module
 */

import type { Bus, BusSubscription } from "./bus.ts";
import type { Identity } from "./identity.ts";
import type { Logger } from "./logger.ts";
import {
  MODERATION_CHANNEL,
  type ModerationEvent,
  parseModerationEvent,
} from "./moderation_events.ts";
import { SanctionsInForce } from "./sanctions_in_force.ts";
import { MAX_SANCTION_SECONDS } from "./moderation_frames.ts";
import type {
  AuditEntry,
  AuditQuery,
  ModerationStore,
  Sanction,
  SanctionKind,
  SanctionQuery,
  SanctionSubject,
} from "./moderation_store.ts";
import type { RoomName } from "./room_name.ts";
import { type PresenceStore, StoreError } from "./store.ts";
import {
  type ImposeTarget,
  localSocket,
  type ModeratedSocket,
  TargetResolver,
} from "./moderation_targets.ts";

export type { ImposeTarget, ModeratedSocket } from "./moderation_targets.ts";
export { banCloseReason, bannedText, mutedText } from "./moderation_events.ts";

/** Whether `identity` may moderate `room`; guests (no identity) never. */
export function mayModerate(
  identity: Identity | undefined,
  room: RoomName,
): boolean {
  if (identity === undefined) return false;
  return identity.role !== undefined || (identity.moderates?.has(room) ??
    false);
}

/** Whether `identity` moderates every room (its token's `role`). */
export function moderatesEveryRoom(identity: Identity | undefined): boolean {
  return identity?.role !== undefined;
}

/** How a moderator is named in sanctions and the audit log. */
export function moderatorActor(identity: Identity): string {
  return identity.name === identity.sub
    ? identity.sub
    : `${identity.name} (${identity.sub})`;
}

/** A mute or a ban to impose. */
export interface ImposeRequest {
  readonly kind: SanctionKind;
  /** `null`: every room (bans only). */
  readonly room: RoomName | null;
  readonly target: ImposeTarget;
  /**
   * Where a `{user}` target is online, for a ban of every room (`room`
   * null) that a moderator gave from a room's page.
   */
  readonly seenIn?: RoomName;
  /** `null`: for good. */
  readonly durationMs: number | null;
  readonly reason: string;
  readonly actor: string;
}

/** The outcome of {@linkcode Moderation.impose}. */
export type ImposeResult =
  | { readonly ok: true; readonly sanction: Sanction }
  | {
    readonly ok: false;
    readonly code: "no_such_user" | "bad_duration" | "not_allowed";
    readonly error: string;
  };

/** What {@linkcode Moderation} is built from. */
export interface ModerationOptions {
  readonly store: ModerationStore;
  readonly bus: Bus;
  /** Who is online where, to find a name's owner. */
  readonly presence: Pick<PresenceStore, "list">;
  readonly now: () => Date;
  readonly log: Logger;
  /** Deletes a message and tells the room (the hub's `deleteMessage`). */
  readonly deleteMessage: (room: RoomName, id: number) => Promise<boolean>;
  /** How often the sanctions in force are read again, in ms. @default 5000 */
  readonly reloadMs?: number;
}

/** One isolate's moderation (held by the hub as `hub.moderation`). */
export class Moderation {
  readonly #options: ModerationOptions;
  readonly #inForce: SanctionsInForce;
  readonly #targets: TargetResolver;
  readonly #subscription: BusSubscription;
  readonly #timer: ReturnType<typeof setInterval>;
  /** Resolves once the sanctions in force were first read (or failed to). */
  readonly ready: Promise<void>;

  constructor(options: ModerationOptions) {
    this.#options = options;
    this.#inForce = new SanctionsInForce({
      store: options.store,
      publish: (event) => this.#publish(event),
      now: options.now,
      log: options.log,
    });
    this.#targets = new TargetResolver({
      sockets: this.#inForce.sockets,
      presence: options.presence,
      ask: (ask, room, user) =>
        this.#publish({ type: "whois", ask, room, user }),
    });
    this.#subscription = options.bus.subscribe(
      MODERATION_CHANNEL,
      (data) => this.#receive(data),
    );
    this.#subscription.live.catch((error) =>
      options.log.warn("moderation.subscribe_failed", { error })
    );
    this.ready = this.reload();
    this.#timer = setInterval(
      () => void this.reload(),
      options.reloadMs ?? 5000,
    );
    Deno.unrefTimer(this.#timer);
  }

  /** Reaches `socket` for bans and mutes until the returned call. */
  attach(socket: ModeratedSocket): () => void {
    const { sockets } = this.#inForce;
    sockets.add(socket);
    return () => sockets.delete(socket);
  }

  /** Imposes a mute or a ban, tells every isolate, and closes or tells. */
  async impose(request: ImposeRequest): Promise<ImposeResult> {
    const { kind, room, durationMs, reason, actor } = request;
    if (kind === "mute" && room === null) {
      return {
        ok: false,
        code: "not_allowed",
        error: "A mute is for one room; give the room",
      };
    }
    if (
      durationMs !== null &&
      !(Number.isSafeInteger(durationMs) && durationMs > 0 &&
        durationMs <= MAX_SANCTION_SECONDS * 1000)
    ) {
      return {
        ok: false,
        code: "bad_duration",
        error:
          `A duration is a whole number of milliseconds up to ${MAX_SANCTION_SECONDS} s (ten years), or none for good`,
      };
    }
    const target = await this.#targets.resolve(
      request.target,
      request.seenIn ?? room,
    );
    if (!target) {
      return {
        ok: false,
        code: "no_such_user",
        error: `Nobody called ${
          JSON.stringify("user" in request.target ? request.target.user : "")
        } is online in this room`,
      };
    }
    const now = this.#options.now();
    const sanction: Sanction = {
      id: `${kind}_${crypto.randomUUID().replaceAll("-", "")}`,
      kind,
      room,
      target,
      reason,
      by: actor,
      at: now.toISOString(),
      until: durationMs === null
        ? null
        : new Date(now.getTime() + durationMs).toISOString(),
    };
    await this.#options.store.impose(sanction, {
      at: sanction.at,
      actor,
      action: kind,
      room,
      user: target.user,
      sanctionId: sanction.id,
      reason,
      until: sanction.until,
    });
    this.#publish({ type: "sanction", sanction });
    await this.#inForce.learn(sanction);
    return { ok: true, sanction };
  }

  /** Lifts the `kind` sanction `id`; undefined when none is in force. */
  async lift(
    kind: SanctionKind,
    id: string,
    actor: string,
  ): Promise<Sanction | undefined> {
    if (!id.startsWith(`${kind}_`)) return undefined;
    const now = this.#options.now();
    const lifted = await this.#options.store.lift(id, {
      at: now.toISOString(),
      actor,
      action: kind === "mute" ? "unmute" : "unban",
    }, now);
    if (lifted) {
      this.#publish({ type: "lifted", id });
      this.#inForce.forget(id);
    }
    return lifted;
  }

  /**
   * Lifts the `kind` sanctions of `room` imposed on the name `user` (a
   * moderator's unmute or unban), or with `everywhere` those from every
   * room; resolves what was lifted.
   */
  async liftByName(
    kind: SanctionKind,
    room: RoomName,
    user: string,
    actor: string,
    { everywhere = false } = {},
  ): Promise<Sanction[]> {
    const sanctions = await this.list({ kind, room });
    const scope = everywhere ? null : room;
    const lifted: Sanction[] = [];
    for (const sanction of sanctions) {
      if (sanction.room !== scope || sanction.target.user !== user) continue;
      const done = await this.lift(kind, sanction.id, actor);
      if (done) lifted.push(done);
    }
    return lifted;
  }

  /** The sanctions in force that `query` selects, oldest first. */
  list(query: SanctionQuery): Promise<Sanction[]> {
    return this.#options.store.list(query, this.#options.now());
  }

  /** The audit log, newest first. */
  auditLog(query: AuditQuery): Promise<AuditEntry[]> {
    return this.#options.store.auditLog(query);
  }

  /** Deletes anyone's message `id` and audits it; false when none. */
  async deleteAny(room: RoomName, id: number, actor: string): Promise<boolean> {
    if (!await this.#options.deleteMessage(room, id)) return false;
    await this.#options.store.audit({
      at: this.#options.now().toISOString(),
      actor,
      action: "delete",
      room,
      messageId: id,
    });
    return true;
  }

  /** Audits a disconnect done by a moderator or the API. */
  async auditDisconnect(
    room: RoomName,
    user: string,
    actor: string,
  ): Promise<void> {
    await this.#options.store.audit({
      at: this.#options.now().toISOString(),
      actor,
      action: "disconnect",
      room,
      user,
    });
  }

  /**
   * The ban that keeps `subject` out of `room` now, if any: the store's
   * answer, or, while the store cannot answer, what this isolate last heard.
   */
  async bannedFrom(
    room: RoomName,
    subject: SanctionSubject,
  ): Promise<Sanction | undefined> {
    try {
      return await this.#options.store.find(
        "ban",
        room,
        subject,
        this.#options.now(),
      );
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      this.#options.log.warn("moderation.find_failed", { room, error });
      return this.#inForce.bannedIn(room, subject);
    }
  }

  /** The mute of `subject` in `room` now, if any, from memory. */
  mutedIn(room: RoomName, subject: SanctionSubject): Sanction | undefined {
    return this.#inForce.mutedIn(room, subject);
  }

  /**
   * Reads the sanctions in force again: those this isolate had not heard
   * of are carried out, those gone (lifted, expired) forgotten.
   */
  async reload(): Promise<void> {
    try {
      await this.#inForce.reload(
        await this.#options.store.list({}, this.#options.now()),
      );
    } catch (error) {
      this.#options.log.warn("moderation.reload_failed", { error });
    }
  }

  /** Stops the reloads and the bus subscription. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#subscription.close();
    await this.ready;
  }

  #receive(data: unknown): void {
    const event = parseModerationEvent(data);
    if (!event) {
      this.#options.log.warn("bus.invalid_frame", {
        room: MODERATION_CHANNEL,
        kind: typeof data,
      });
      return;
    }
    if (event.type === "lifted") this.#inForce.forget(event.id);
    else if (event.type === "whois") {
      const socket = localSocket(this.#inForce.sockets, event.room, event.user);
      if (socket) {
        this.#publish({ type: "owner", ask: event.ask, ...socket.subject });
      }
    } else if (event.type === "owner") {
      this.#targets.answered(event.ask, event);
    } else {
      this.#inForce.learn(event.sanction).catch((error) =>
        this.#options.log.error("moderation.apply_failed", { error })
      );
    }
  }

  #publish(event: ModerationEvent): void {
    this.#options.bus.publish(MODERATION_CHANNEL, JSON.stringify(event))
      .catch((error) =>
        this.#options.log.warn("bus.publish_failed", {
          room: MODERATION_CHANNEL,
          error,
        })
      );
  }
}
