/**
 * The admin console as a test drives it without a browser: sign-in with the
 * test key, requests with its cookie from its own origin, the cookie's
 * attributes read back, a message posted through the server API.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { DisposableChatServer } from "./server.ts";

/** The API key of the console's test servers. */
export const ADMIN_TEST_KEY = "console-test-key-0123456789abcdef";

/** The origin `app.request` serves from. */
export const APP_ORIGIN = "http://localhost";

/** POSTs `form` to `path` of `server` with `headers` (by default its own Origin). */
export function postForm(
  server: DisposableChatServer,
  path: string,
  form: Record<string, string>,
  headers: Record<string, string> = { Origin: APP_ORIGIN },
  url = `${APP_ORIGIN}${path}`,
  env?: unknown,
): Promise<Response> {
  return Promise.resolve(
    server.app.request(url, {
      method: "POST",
      body: new URLSearchParams(form),
      headers,
    }, env),
  );
}

/** The `name=value` of a Set-Cookie answer, for the Cookie header. */
export function cookieOf(response: Response): string {
  const set = response.headers.get("set-cookie");
  assert.ok(set, "the answer sets a cookie");
  return set.split(";")[0] ?? "";
}

/** The attributes of the Set-Cookie answer, names lower-cased. */
export function cookieFlags(response: Response): Map<string, string> {
  const set = response.headers.get("set-cookie") ?? "";
  return new Map(
    set.split(";").slice(1).map((part) => {
      const [name = "", value = ""] = part.trim().split("=");
      return [name.toLowerCase(), value];
    }),
  );
}

/** The texts of `room`'s messages, through the public API. */
export async function roomTexts(
  server: DisposableChatServer,
  room: string,
): Promise<string[]> {
  const response = await server.app.request(`/api/rooms/${room}/messages`);
  const body: { messages: { message: string }[] } = await response.json();
  return body.messages.map((m) => m.message);
}

/** Signs in to `server`'s console with the test key; its cookie. */
export async function signInWithKey(
  server: DisposableChatServer,
): Promise<string> {
  const response = await postForm(server, "/admin/session", {
    key: ADMIN_TEST_KEY,
  });
  assert.equal(response.status, 303);
  return cookieOf(response);
}

/** GETs `path` of `server`, with `cookie` when given. */
export function getWith(
  server: DisposableChatServer,
  path: string,
  cookie?: string,
): Promise<Response> {
  return Promise.resolve(
    server.app.request(path, cookie ? { headers: { Cookie: cookie } } : {}),
  );
}

/** Posts `message` as `user` to `room` through the server API; its id. */
export async function postWithKey(
  server: DisposableChatServer,
  room: string,
  user: string,
  message: string,
): Promise<number> {
  const response = await server.app.request(`/api/rooms/${room}/messages`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${ADMIN_TEST_KEY}`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify({ user, message }),
  });
  const body = await response.json();
  assert.equal(response.status, 201, JSON.stringify(body));
  assert.equal(typeof body.id, "number", JSON.stringify(body));
  return body.id;
}
