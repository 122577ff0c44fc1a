/**
 * Whom a mute or a ban applies to, from whom a moderator named: a name
 * online (its owner, from this isolate's sockets or the presence store,
 * and a guest's address when one of its sockets is here), a signed user's
 * `sub`, or a guest address.
 *
 * @module
 */

import type { SanctionSubject, SanctionTarget } from "./moderation_store.ts";
import type { RoomName } from "./room_name.ts";
import type { PresenceStore } from "./store.ts";
import { signedOwner } from "./user_name.ts";

/** Whom a sanction is imposed on. */
export type ImposeTarget =
  /** A display name online in the room. */
  | { readonly user: string }
  /** A signed user, online or not. */
  | { readonly sub: string }
  /** A guest address. */
  | { readonly address: string };

/** A local socket, as moderation reaches it. */
export interface ModeratedSocket {
  readonly room: RoomName;
  readonly subject: SanctionSubject;
  /** Whether it takes typed frames (`muted`, `unmuted`). */
  readonly typed: boolean;
  /** The name it goes by now. */
  user(): string;
  deliver(text: string): void;
  /** Leaves the room and closes the socket with `code` and `reason`. */
  close(code: number, reason: string): void;
}

/** Names read per page while looking for one in the presence store. */
const PAGE = 200;

/** How long the isolate holding a name has to say whose it is, in ms. */
const WHOIS_MS = 2000;

/** Who a name online is, as the isolate holding its socket says. */
export type Owner = SanctionSubject;

/** What {@linkcode TargetResolver} needs. */
export interface TargetSources {
  /** This isolate's sockets. */
  readonly sockets: Iterable<ModeratedSocket>;
  readonly presence: Pick<PresenceStore, "list">;
  /** Asks every other isolate whose `user` is (answered with `answer`). */
  readonly ask: (ask: string, room: RoomName | null, user: string) => void;
}

/** Whether `user` is online in `room`, from the presence store. */
async function isOnline(
  presence: Pick<PresenceStore, "list">,
  room: RoomName,
  user: string,
): Promise<boolean> {
  let after: string | undefined;
  for (;;) {
    const page = await presence.list(room, {
      limit: PAGE,
      ...(after === undefined ? {} : { after }),
    });
    if (page.some((present) => present.name === user)) return true;
    const last = page.at(-1);
    if (page.length < PAGE || !last) return false;
    after = last.name;
  }
}

/** The socket of `user` in `room` (any room for `null`) on this isolate. */
export function localSocket(
  sockets: Iterable<ModeratedSocket>,
  room: RoomName | null,
  user: string,
): ModeratedSocket | undefined {
  for (const socket of sockets) {
    if ((room === null || socket.room === room) && socket.user() === user) {
      return socket;
    }
  }
  return undefined;
}

/**
 * Finds whom a moderator names. A name online on another isolate or
 * process is asked about over the bus: its owner is known only where its
 * socket is (the presence store keeps names, not who holds them).
 */
export class TargetResolver {
  readonly #sources: TargetSources;
  readonly #asked = new Map<string, (owner: Owner) => void>();

  constructor(sources: TargetSources) {
    this.#sources = sources;
  }

  /**
   * The target of a sanction in `room` (`null`: every room), or undefined
   * when `target` names nobody online there.
   */
  async resolve(
    target: ImposeTarget,
    room: RoomName | null,
  ): Promise<SanctionTarget | undefined> {
    if ("sub" in target) {
      return {
        user: target.sub,
        owner: signedOwner(target.sub),
        addresses: [],
      };
    }
    if ("address" in target) {
      return { user: "guest", addresses: [target.address] };
    }
    const { user } = target;
    const local = localSocket(this.#sources.sockets, room, user);
    const owner = local?.subject ??
      (room === null || await isOnline(this.#sources.presence, room, user)
        ? await this.#ask(room, user)
        : undefined);
    if (!owner) return undefined;
    return {
      user,
      owner: owner.owner,
      addresses: owner.guest ? [owner.address] : [],
    };
  }

  /** An answer to one of this isolate's questions. */
  answered(ask: string, owner: Owner): void {
    this.#asked.get(ask)?.(owner);
  }

  async #ask(room: RoomName | null, user: string): Promise<Owner | undefined> {
    const ask = crypto.randomUUID();
    const answer = Promise.withResolvers<Owner | undefined>();
    const timer = setTimeout(() => answer.resolve(undefined), WHOIS_MS);
    this.#asked.set(ask, answer.resolve);
    try {
      this.#sources.ask(ask, room, user);
      return await answer.promise;
    } finally {
      clearTimeout(timer);
      this.#asked.delete(ask);
    }
  }
}
