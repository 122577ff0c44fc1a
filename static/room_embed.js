/**
 * The room page inside a site's iframe: the site's page (the parent) may
 * hand it a fresh token with `postMessage({type: "chat.token", token},
 * chatOrigin)`. Only a parent whose origin the server lists as a frame
 * ancestor (`CHAT_FRAME_ANCESTORS`, in the page's `data-frame-ancestors`)
 * is heard; any other sender (another frame of the parent page, a window
 * that opened this one) is ignored, with a console warning for the site's
 * developers. When its token has expired, the page asks the parent for a
 * fresh one (`{type: "chat.token_needed", room}`), addressed to the listed
 * origins only. The token itself is never logged.
 *
 * @module
 */

/**
 * Calls `take(token)` for each token the parent sends from one of the
 * `allowed` origins.
 */
export function acceptTokensFromParent(allowed, take) {
  const parent = globalThis.parent;
  globalThis.addEventListener("message", (event) => {
    const data = event.data;
    if (typeof data !== "object" || data === null) return;
    if (data.type !== "chat.token") return;
    if (
      parent === globalThis || event.source !== parent ||
      !allowed.includes(event.origin)
    ) {
      console.warn(
        `chat: ignored a chat.token message from ${event.origin}: only the page that frames this one, from an origin in CHAT_FRAME_ANCESTORS, may hand it a token`,
      );
      return;
    }
    if (typeof data.token !== "string" || data.token === "") {
      console.warn("chat: ignored a chat.token message without a token");
      return;
    }
    take(data.token);
  });
}

/**
 * Asks the page that frames this one for a fresh token for `room`: one
 * message per `allowed` origin, which the browser delivers only when the
 * parent is of that origin. Does nothing at the top level.
 */
export function askParentForToken(allowed, room) {
  const parent = globalThis.parent;
  if (parent === globalThis) return;
  for (const origin of allowed) {
    parent.postMessage({ type: "chat.token_needed", room }, origin);
  }
}
