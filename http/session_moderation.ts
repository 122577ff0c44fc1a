/**
 * A socket's side of moderation: its frames refused while its user is
 * muted (from the hub's memory, no store round trip), a moderator's frames
 * (mute, ban, unmute, unban, the list of the room's mutes and bans, and
 * delete of anyone's message) handed to `hub.moderation`, the `role` frame that tells a moderator's page to show
 * its tools (and a muted user's `muted` frame) after admission, and the
 * socket made reachable for bans and mute notices. Its
 * conversation frames go on to `session_conversation.ts`.
 *
 * @module
 */

import type { ClientFrame, ErrorFrame } from "../chat/frames.ts";
import type { ChatHub } from "../chat/hub.ts";
import type { Identity } from "../chat/identity.ts";
import type { ConversationRequest } from "../chat/conversation_frames.ts";
import {
  mayModerate,
  moderatesEveryRoom,
  moderatorActor,
  mutedText,
} from "../chat/moderation.ts";
import type {
  LiftRequestFrame,
  ListedSanction,
  ModeratedFrame,
  ModerationRequest,
  MutedFrame,
  RoleFrame,
  SanctionRequestFrame,
  SanctionsFrame,
} from "../chat/moderation_frames.ts";
import {
  MAX_AUDIT_PAGE,
  type Sanction,
  type SanctionKind,
  type SanctionSubject,
} from "../chat/moderation_store.ts";
import { sanctionView } from "../chat/sanction_view.ts";
import { notForTutorial, notStored } from "./session_answers.ts";
import {
  type ConversingSocket,
  SessionConversation,
} from "./session_conversation.ts";

/** The socket, as its moderation needs it. */
export interface ModeratingSocket extends ConversingSocket {
  /** The signed identity, when the socket has one. */
  readonly identity: Identity | undefined;
  /** The client's address. */
  readonly address: string;
  /** Sends one serialised frame. */
  readonly deliver: (text: string) => void;
  /** Leaves the room and closes the socket (a ban). */
  readonly end: (code: number, reason: string) => void;
}

/** What a frame that is neither a message nor a rename is. */
export type OtherRequest = ConversationRequest | ModerationRequest;

/** One socket's moderation, and its conversation behind it. */
export class SessionModeration {
  readonly #hub: ChatHub;
  readonly #socket: ModeratingSocket;
  readonly #subject: SanctionSubject;
  readonly #conversation: SessionConversation;
  #detach: (() => void) | undefined;

  constructor(hub: ChatHub, socket: ModeratingSocket) {
    this.#hub = hub;
    this.#socket = socket;
    this.#subject = {
      owner: socket.owner,
      address: socket.address,
      guest: socket.identity === undefined,
    };
    this.#conversation = new SessionConversation(hub, socket);
  }

  /**
   * Makes the socket reachable by bans and mutes from now on; a typed
   * socket is told its role or its mute once it is `ready` (after presence).
   */
  open(ready: Promise<void>): void {
    const socket = this.#socket;
    this.#detach = this.#hub.moderation.attach({
      room: socket.room,
      subject: this.#subject,
      typed: socket.format === "typed",
      user: socket.user,
      deliver: socket.deliver,
      close: socket.end,
    });
    if (socket.format !== "typed") return;
    ready.then(() => this.#admitted(), () => {});
  }

  /**
   * After presence: a moderator learns its role, a muted user that it is
   * muted (until when, why), so that a page can say so from the start.
   */
  #admitted(): void {
    const { deliver, room } = this.#socket;
    if (this.#moderates) {
      const role: RoleFrame = {
        type: "role",
        role: "moderator",
        everywhere: moderatesEveryRoom(this.#socket.identity),
      };
      deliver(JSON.stringify(role));
    }
    const mute = this.#hub.moderation.mutedIn(room, this.#subject);
    if (mute) {
      const { until, reason } = mute;
      const muted: MutedFrame = { type: "muted", room, until, reason };
      deliver(JSON.stringify(muted));
    }
  }

  /** The socket closed. Idempotent. */
  close(): void {
    this.#detach?.();
  }

  /**
   * The refusal of `frame` when its sender is muted here: everything that
   * speaks (message, edit, react, typing, delete) but a moderator's frames.
   */
  muted(frame: ClientFrame, cid: string | undefined): ErrorFrame | undefined {
    if (frame.type === "rename" || isModeration(frame)) return undefined;
    const mute = this.#hub.moderation.mutedIn(this.#socket.room, this.#subject);
    if (!mute) return undefined;
    return {
      type: "error",
      code: "muted",
      error: mutedText(mute),
      until: mute.until,
      reason: mute.reason,
      ...(cid === undefined ? {} : { cid }),
      ...("id" in frame ? { id: frame.id } : {}),
    };
  }

  /** Carries out `frame`, or tells the socket why not. Never rejects. */
  async handle(frame: OtherRequest): Promise<void> {
    if (!isModeration(frame) && frame.type !== "delete") {
      return await this.#conversation.handle(frame);
    }
    const { refuse, log, id, room } = this.#socket;
    try {
      const refused = isModeration(frame)
        ? await this.#moderate(frame)
        : await this.#delete(frame.id);
      if (refused) refuse(refused);
    } catch (error) {
      log.error("socket.moderation_failed", { connection: id, room, error });
      refuse({
        type: "error",
        code: "unavailable",
        error: notStored(error),
        ...(isModeration(frame) ? {} : { id: frame.id }),
      });
    }
  }

  get #moderates(): boolean {
    return mayModerate(this.#socket.identity, this.#socket.room);
  }

  /** A delete: the sender's own, or anyone's for a moderator. */
  async #delete(id: number): Promise<ErrorFrame | undefined> {
    const identity = this.#socket.identity;
    if (!identity || !this.#moderates) {
      await this.#conversation.handle({ type: "delete", id });
      return undefined;
    }
    const room = this.#socket.room;
    if (
      await this.#hub.moderation.deleteAny(room, id, moderatorActor(identity))
    ) {
      return undefined;
    }
    return {
      type: "error",
      code: "no_such_message",
      error: "No such message in this room",
      id,
    };
  }

  async #moderate(frame: ModerationRequest): Promise<ErrorFrame | undefined> {
    const { identity, format } = this.#socket;
    if (format === "tutorial") {
      return notForTutorial(frame.type);
    }
    if (!identity || !this.#moderates) {
      return {
        type: "error",
        code: "not_moderator",
        error:
          "Only a moderator of this room may mute, ban, unmute, unban or list who is muted or banned",
      };
    }
    if (frame.type === "sanctions") {
      this.#socket.deliver(JSON.stringify(await this.#sanctions()));
      return undefined;
    }
    const actor = moderatorActor(identity);
    const done = isLift(frame)
      ? await this.#lift(frame, actor)
      : await this.#impose(frame, actor);
    if (done.type === "error") return done;
    this.#socket.deliver(JSON.stringify(done));
    return undefined;
  }

  /** The room's mutes and bans in force, the newest of each if too many. */
  async #sanctions(): Promise<SanctionsFrame> {
    const all = await this.#hub.moderation.list({ room: this.#socket.room });
    const newest = (kind: SanctionKind) =>
      all.filter((s) => s.kind === kind).slice(-MAX_AUDIT_PAGE).map(listed);
    const mutes = newest("mute");
    const bans = newest("ban");
    const more = mutes.length + bans.length < all.length;
    return { type: "sanctions", mutes, bans, ...(more ? { more } : {}) };
  }

  async #lift(
    frame: LiftRequestFrame,
    actor: string,
  ): Promise<ModeratedFrame | ErrorFrame> {
    const { everywhere } = frame;
    if (everywhere && !moderatesEveryRoom(this.#socket.identity)) {
      return {
        type: "error",
        code: "not_moderator",
        error: "Only a moderator of every room may lift a ban from every room",
      };
    }
    const kind = frame.type === "unmute" ? "mute" : "ban";
    const lifted = await this.#hub.moderation.liftByName(
      kind,
      this.#socket.room,
      frame.user,
      actor,
      { everywhere },
    );
    if (lifted.length === 0) {
      return {
        type: "error",
        code: "no_such_user",
        error: `${frame.user} is not ${kind === "mute" ? "muted" : "banned"} ${
          everywhere ? "from every room" : "in this room"
        }`,
      };
    }
    return {
      type: "moderated",
      action: frame.type,
      user: frame.user,
      ...(everywhere ? { everywhere: true } : {}),
    };
  }

  async #impose(
    frame: SanctionRequestFrame,
    actor: string,
  ): Promise<ModeratedFrame | ErrorFrame> {
    if (frame.everywhere && !moderatesEveryRoom(this.#socket.identity)) {
      return {
        type: "error",
        code: "not_moderator",
        error: "Only a moderator of every room may ban from every room",
      };
    }
    const room = this.#socket.room;
    const result = await this.#hub.moderation.impose({
      kind: frame.type,
      room: frame.everywhere ? null : room,
      target: { user: frame.user },
      seenIn: room,
      durationMs: frame.duration === null ? null : frame.duration * 1000,
      reason: frame.reason,
      actor,
    });
    if (!result.ok) {
      return {
        type: "error",
        code: result.code === "not_allowed" ? "not_moderator" : result.code,
        error: result.error,
      };
    }
    return {
      type: "moderated",
      action: frame.type,
      user: frame.user,
      until: result.sanction.until,
      reason: result.sanction.reason,
      ...(frame.everywhere ? { everywhere: true } : {}),
    };
  }
}

function isModeration(frame: ClientFrame): frame is ModerationRequest {
  return frame.type === "mute" || frame.type === "ban" ||
    frame.type === "unmute" || frame.type === "unban" ||
    frame.type === "sanctions";
}

/** `sanction` as a moderator's page lists it: no address, no key. */
function listed(sanction: Sanction): ListedSanction {
  const { target, ...view } = sanctionView(sanction, false);
  const { user, sub } = target;
  return {
    ...view,
    target: { user, ...(sub === undefined ? {} : { sub }) },
    ...(sanction.room === null ? { everywhere: true } : {}),
  };
}

function isLift(
  frame: SanctionRequestFrame | LiftRequestFrame,
): frame is LiftRequestFrame {
  return frame.type === "unmute" || frame.type === "unban";
}
