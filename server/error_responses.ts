/**
 * How the server answers what went wrong: JSON `{ error }` under `/ws/`,
 * `/api/` and `/admin/api/`, else an error page in the reader's language;
 * a store failure is a 503 without its details, anything unexpected a 500
 * that is logged.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { StoreError } from "../chat/store.ts";
import type { Logger } from "../observability/log.ts";
import { PageError } from "../http/page_error.ts";
import { detectLanguage, requestLang } from "../routes/pages.ts";
import { errorPage } from "../templates/error_page.ts";
import { messagesFor, type PageProblem } from "../templates/messages.ts";

function respondWithError(
  c: Context,
  status: ContentfulStatusCode,
  detail: string,
  problem?: PageProblem,
): Response | Promise<Response> {
  const path = c.req.path;
  if (
    path.startsWith("/ws/") || path.startsWith("/api/") ||
    path.startsWith("/admin/api/")
  ) {
    return c.json({ error: detail }, status);
  }
  const lang = requestLang(c);
  const t = messagesFor(lang);
  const shown = problem ? t.problem(problem) : detail;
  return c.html(errorPage(status, shown, lang, t), status);
}

/** Answers `app`'s unknown paths and thrown errors; logs only 5xx. */
export function answerErrors(app: Hono, log: Logger): void {
  app.notFound(async (c) => {
    await detectLanguage(c, () => Promise.resolve());
    return respondWithError(c, 404, `Nothing here: ${c.req.path}`, {
      kind: "not_found",
      path: c.req.path,
    });
  });
  app.onError(async (error, c) => {
    await detectLanguage(c, () => Promise.resolve());
    if (error instanceof PageError) {
      return respondWithError(c, error.status, error.message, error.problem);
    }
    if (error instanceof HTTPException && error.status < 500) {
      return respondWithError(c, error.status, error.message);
    }
    if (error instanceof StoreError) {
      // The store's own failure, already explained: no stack, and the
      // answer names no file. /healthz gives operators the reason.
      log.warn("request.store_failed", {
        method: c.req.method,
        path: c.req.path,
        kind: error.kind,
        reason: error.message,
      });
      return respondWithError(
        c,
        503,
        error.kind === "corrupt"
          ? "The server's storage is damaged where this is kept; it cannot be read"
          : "The server's storage cannot answer now; try again later",
      );
    }
    log.error("request.failed", {
      method: c.req.method,
      path: c.req.path,
      error,
    });
    return respondWithError(c, 500, "Internal server error");
  });
}
