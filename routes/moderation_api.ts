/**
 * Moderation over HTTP: mute and ban users (in a room, or banned from every
 * room), lift them, list those in force, read the audit log, and delete a
 * message or disconnect a user, each audited under the caller's name. The
 * routes do not authenticate: they take an `authorise` middleware that
 * refuses a caller or names it in `c.var.actor`. The server API mounts them
 * under `/api` with its key (actor `api`); the admin console under
 * `/admin/api` with its session.
 *
 * @module
 */

import { type Context, Hono, type MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ChatHub } from "../chat/hub.ts";
import { MAX_AUDIT_PAGE, type SanctionKind } from "../chat/moderation_store.ts";
import { sanctionView } from "../chat/sanction_view.ts";
import type { RoomName } from "../chat/room_name.ts";
import { StoreError } from "../chat/store.ts";
import { parseSanctionInput } from "../http/moderation_input.ts";
import { integerParam, roomParam } from "../http/params.ts";
import {
  dropUnreadBody,
  jsonBody,
  limitBody,
  userField,
} from "../http/request_body.ts";
import type { Logger } from "../observability/log.ts";

/** What the moderation routes know of their caller. */
export interface ModeratorEnv {
  Variables: {
    /** Who acts, as the audit log names them (`api` for the API key). */
    actor: string;
  };
}

/** What the moderation routes need. */
export interface ModerationRoutesOptions {
  readonly hub: ChatHub;
  readonly log: Logger;
  /**
   * Refuses a caller (throws an `HTTPException`, 401 or 403) or sets
   * `c.var.actor` and calls `next`. Runs before any of the body is read.
   */
  readonly authorise: MiddlewareHandler<ModeratorEnv>;
  /** The largest request body, in bytes. */
  readonly maxBodyBytes: number;
  /**
   * Whether sanctions show the guest addresses they apply to.
   * @default false
   */
  readonly showAddresses?: boolean;
}

/** How many audit entries a page returns without `limit`. */
export const DEFAULT_AUDIT_PAGE = 50;

/** What each impose refusal is answered with. */
const REFUSAL_STATUS = {
  no_such_user: 404,
  bad_duration: 400,
  not_allowed: 403,
} as const;

const NOUN = { mute: "mute", ban: "ban" } as const;

/** Builds the moderation routes, to mount under `/api` or `/admin/api`. */
export function moderationRoutes(
  options: ModerationRoutesOptions,
): Hono<ModeratorEnv> {
  const { hub, log, authorise, showAddresses = false } = options;
  const app = new Hono<ModeratorEnv>();
  // The caller is checked before any of the body is read.
  const reading = [dropUnreadBody, authorise] as const;
  const writing = [
    dropUnreadBody,
    authorise,
    limitBody(options.maxBodyBytes),
  ] as const;

  /** Runs `action`; a store that cannot answer is 503, saying what failed. */
  async function stored(
    c: Context<ModeratorEnv>,
    failed: string,
    action: () => Promise<Response>,
  ): Promise<Response> {
    try {
      return await action();
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      log.error("moderation.store_failed", {
        method: c.req.method,
        path: c.req.path,
        error,
      });
      return c.json({ error: `${failed}: ${error.message}` }, 503);
    }
  }

  async function impose(
    c: Context<ModeratorEnv>,
    kind: SanctionKind,
    room: RoomName | null,
  ): Promise<Response> {
    const input = parseSanctionInput(await jsonBody(c), room);
    const actor = c.var.actor;
    return await stored(c, `The ${NOUN[kind]} was not stored`, async () => {
      const result = await hub.moderation.impose({
        kind,
        room,
        target: input.target,
        durationMs: input.durationMs,
        reason: input.reason,
        actor,
      });
      if (!result.ok) {
        return c.json(
          { error: result.error, code: result.code },
          REFUSAL_STATUS[result.code],
        );
      }
      const { sanction } = result;
      log.info("moderation.imposed", {
        kind,
        room: room ?? "*",
        id: sanction.id,
        actor,
        until: sanction.until ?? "never",
      });
      return c.json(sanctionView(sanction, showAddresses), 201);
    });
  }

  async function list(
    c: Context<ModeratorEnv>,
    kind: SanctionKind,
    room: RoomName | undefined,
  ): Promise<Response> {
    return await stored(c, `The ${NOUN[kind]}s cannot be read`, async () => {
      const sanctions = await hub.moderation.list({
        kind,
        ...(room === undefined ? {} : { room }),
      });
      return c.json({
        sanctions: sanctions.map((s) => sanctionView(s, showAddresses)),
      });
    });
  }

  async function lift(
    c: Context<ModeratorEnv>,
    kind: SanctionKind,
  ): Promise<Response> {
    const id = c.req.param("id") ?? "";
    const actor = c.var.actor;
    return await stored(c, `The ${NOUN[kind]} was not lifted`, async () => {
      // Another kind's id, or one no store could have made, is in force
      // nowhere: the store is not asked.
      const lifted = id.startsWith(`${kind}_`) && id.length <= 100
        ? await hub.moderation.lift(kind, id, actor)
        : undefined;
      if (lifted === undefined) {
        throw new HTTPException(404, {
          message: `No ${NOUN[kind]} ${
            JSON.stringify(id.slice(0, 100))
          } is in force`,
        });
      }
      log.info("moderation.lifted", { kind, id, actor });
      return c.body(null, 204);
    });
  }

  for (const kind of ["mute", "ban"] as const) {
    app.post(`/rooms/:room/${kind}s`, ...writing, async (c) =>
      await impose(
        c,
        kind,
        roomParam(c.req.param("room"), `Cannot ${NOUN[kind]}`),
      ));
    app.get(`/rooms/:room/${kind}s`, ...reading, async (c) =>
      await list(
        c,
        kind,
        roomParam(c.req.param("room"), `Cannot list ${NOUN[kind]}s`),
      ));
    app.get(
      `/${kind}s`,
      ...reading,
      async (c) => await list(c, kind, undefined),
    );
    app.delete(`/${kind}s/:id`, ...reading, async (c) => await lift(c, kind));
  }
  // Only bans apply to every room: a mute is about what is said in one.
  app.post("/bans", ...writing, async (c) => await impose(c, "ban", null));

  app.get("/audit", ...reading, async (c) => {
    const roomText = c.req.query("room");
    const room = roomText === undefined
      ? undefined
      : roomParam(roomText, "Cannot read the audit log");
    const before = integerParam("before", c.req.query("before"), { min: 1 });
    const limit = integerParam("limit", c.req.query("limit"), {
      min: 1,
      max: MAX_AUDIT_PAGE,
    }) ?? DEFAULT_AUDIT_PAGE;
    return await stored(c, "The audit log cannot be read", async () => {
      // One more than asked tells whether an older page exists.
      const entries = await hub.moderation.auditLog({
        limit: limit + 1,
        ...(room === undefined ? {} : { room }),
        ...(before === undefined ? {} : { before }),
      });
      const page = entries.slice(0, limit);
      const next = entries.length > limit ? page.at(-1)?.id ?? null : null;
      return c.json({ entries: page, next });
    });
  });

  app.delete("/rooms/:room/messages/:id", ...reading, async (c) => {
    const room = roomParam(c.req.param("room"), "Cannot delete");
    const id = integerParam("id", c.req.param("id"), { min: 1 });
    const actor = c.var.actor;
    // The store deletes, then audits: a failure may come after the delete.
    const failed = "The message was not deleted, or its delete not audited";
    return await stored(c, failed, async () => {
      if (
        id === undefined || !await hub.moderation.deleteAny(room, id, actor)
      ) {
        return c.json({ error: `Room ${room} holds no message ${id}` }, 404);
      }
      log.info("api.message_deleted", { room, id, actor });
      return c.body(null, 204);
    });
  });

  app.post("/rooms/:room/disconnect", ...writing, async (c) => {
    const room = roomParam(c.req.param("room"), "Cannot disconnect");
    const user = userField(await jsonBody(c));
    const actor = c.var.actor;
    return await stored(c, "Nobody was disconnected", async () => {
      const closed = await hub.disconnect(room, user);
      log.info("api.user_disconnected", { room, user, closed, actor });
      const unaudited =
        `Closed ${closed} connections, but the audit log did not record it`;
      return await stored(c, unaudited, async () => {
        await hub.moderation.auditDisconnect(room, user, actor);
        return c.json({ closed }, 200);
      });
    });
  });

  return app;
}
