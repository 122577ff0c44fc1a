/**
 * Builds the admin console (`routes/admin.ts`) from the configuration: the
 * session cookie's key (`CHAT_ADMIN_SESSION_SECRET`, else derived from the
 * API key or the token secret, else random to this process) and the JSON
 * API behind the session.
 *
 * @module
 */

import type { Hono, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { trustedProxies } from "../chat/address_range.ts";
import type { ChatHub } from "../chat/hub.ts";
import type { SharedBucketTable } from "../chat/shared_buckets.ts";
import type { TokenVerifier } from "../chat/identity.ts";
import {
  actorOf,
  adminSessionKey,
  AdminSessions,
} from "../http/admin_session.ts";
import { SignInLimit } from "../http/admin_sign_in_limit.ts";
import type { Logger } from "../observability/log.ts";
import { type AdminEnv, adminRoutes } from "../routes/admin.ts";
import { adminApiRoutes } from "../routes/admin_api.ts";
import type { ModeratorEnv } from "../routes/moderation_api.ts";
import type { OpsOptions } from "../routes/ops.ts";
import type { Config } from "./settings.ts";

/** What the console shares with the rest of the server. */
export interface AdminConsoleParts {
  readonly ops: OpsOptions;
  readonly hub: ChatHub;
  readonly verifier: TokenVerifier | undefined;
  readonly log: Logger;
  /**
   * The process's shared bucket table when this server is one of several
   * workers of its process.
   */
  readonly rateTable: SharedBucketTable | undefined;
  /** The clock of sessions and of the sign-in limit, for tests. @default Date.now */
  readonly now?: () => number;
}

/** The console's routes for `config`. */
export async function adminConsole(
  config: Config,
  parts: AdminConsoleParts,
): Promise<Hono<AdminEnv>> {
  const { log, verifier } = parts;
  const key = await adminSessionKey(config);
  // Other isolates and processes would each draw a key of their own.
  if (
    key.source === "random" && verifier !== undefined &&
    (parts.rateTable !== undefined || config.redisUrl !== undefined)
  ) {
    log.warn("admin.session_key_random", {
      hint:
        "a console session holds only in the isolate that signed it in; set CHAT_ADMIN_SESSION_SECRET",
    });
  }
  const proxies = trustedProxies(config.trustedProxies);
  const sessions = new AdminSessions(key.key, proxies, parts.now);
  const authorise: MiddlewareHandler<ModeratorEnv> = async (c, next) => {
    const session = await sessions.read(c);
    if (session === undefined) {
      throw new HTTPException(401, {
        message: "Sign in to the admin console first",
      });
    }
    c.set("actor", actorOf(session));
    await next();
  };
  return adminRoutes({
    sessions,
    apiKey: config.apiKey,
    verifier,
    // One count per process, whichever worker has the connection; each
    // process of a Redis deployment counts its own.
    signInLimit: new SignInLimit({
      ...(parts.now ? { now: parts.now } : {}),
      ...(parts.rateTable ? { table: parts.rateTable } : {}),
    }),
    proxies,
    log,
    api: adminApiRoutes({
      ...parts.ops,
      hub: parts.hub,
      authorise,
      maxBodyBytes: config.maxFrameBytes,
      backend: config.redisUrl === undefined ? "sqlite" : "redis",
    }),
  });
}
