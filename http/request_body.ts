/**
 * Request bodies of the JSON routes (the server API, moderation): read only
 * after the caller is authorised, bounded in size, parsed into a JSON
 * object or answered 400, and drained when the route does not read them.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { isRecord, parseJson } from "../chat/json.ts";
import { parseUserName } from "../chat/user_name.ts";

/**
 * Drops the rest of a body the route did not read (refused with 401 or
 * 413): left unread, Deno keeps the connection and its body resource until
 * its 30 s header timeout. The route reads the body through a stream of our
 * own, whose source is cancelled once the route is done.
 */
export const dropUnreadBody: MiddlewareHandler = async (c, next) => {
  const source = c.req.raw.body?.getReader();
  if (!source) return await next();
  let finished = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await source.read();
      if (chunk.done) {
        finished = true;
        controller.close();
      } else {
        controller.enqueue(chunk.value);
      }
    },
    cancel: (reason) => source.cancel(reason),
  });
  c.req.raw = new Request(c.req.raw, { body });
  try {
    await next();
  } finally {
    if (!finished) await source.cancel();
  }
};

/**
 * Stops reading a body at `maxBytes` and answers 413: one with a larger
 * `Content-Length` is not read at all, a streamed one no further than the
 * limit.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new HTTPException(413, {
        message: `Body is larger than ${maxBytes} bytes`,
      });
    },
  });
}

/** Reads a JSON object body (bounded by {@linkcode limitBody}), or answers 400. */
export async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const parsed = parseJson(await c.req.text());
  if (!parsed.ok) {
    throw new HTTPException(400, { message: "Body is not JSON" });
  }
  if (!isRecord(parsed.value)) {
    throw new HTTPException(400, { message: "Body must be a JSON object" });
  }
  return parsed.value;
}

/**
 * The body's `"user"`, a name as the site gives it (reserved ones
 * included: it is the site), or 400.
 */
export function userField(body: Record<string, unknown>): string {
  if (typeof body.user !== "string") {
    throw new HTTPException(400, { message: 'Body needs a string "user"' });
  }
  const user = parseUserName(body.user, []);
  if (!user.ok) {
    throw new HTTPException(400, { message: `user: ${user.error}` });
  }
  return user.name;
}
