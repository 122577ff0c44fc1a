/**
 * The client's ways to a room and back: the socket's address (with
 * `since=` and the log's epoch), the question a client asks when its
 * socket never opened, the delay before the next try, and, in a browser,
 * the signals that the network or the tab is back.
 *
 * @module
 */

/**
 * The socket's address under `base` (the server's, ending in `/`): the
 * room, and the query that names the client and where its log is.
 */
export function socketUrl(base, room, { name, key, lastId, epoch, token }) {
  const query = new URLSearchParams();
  if (name) query.set("name", name);
  query.set("key", key);
  if (lastId > 0) {
    query.set("since", String(lastId));
    // Ids of another log name other messages: the server answers a since=
    // of another epoch with fresh history.
    if (epoch) query.set("epoch", epoch);
  }
  if (token) query.set("token", token);
  const url = new URL(`ws/chat/${encodeURIComponent(room)}/?${query}`, base);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/**
 * Why a socket to `url` never opened. WebSocket hides the status, so this
 * asks the same address over HTTP: the server answers with the refusal the
 * upgrade got, or 426 when it would have let it in; `body` is its JSON
 * (a ban's `until` and `reason`). Status 0: the server did not answer
 * (down, or the network).
 */
export async function askWhyRefused(fetch, url, signal) {
  const probe = new URL(url);
  probe.protocol = probe.protocol === "wss:" ? "https:" : "http:";
  try {
    const response = await fetch(probe, { signal });
    // A refusal that is not the server's JSON (a proxy's page) has no words.
    const body = await response.json().catch(() => ({}));
    const why = typeof body?.error === "string" ? body.error : "";
    return { status: response.status, why, body };
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    return { status: 0, why: error.message, body: {} };
  }
}

/** Full jitter over `baseMs` doubling `retries` times, capped at `capMs`. */
export function jitteredDelay({ baseMs, capMs }, retries) {
  return Math.random() * Math.min(capMs, baseMs * 2 ** retries);
}

/**
 * In a browser, calls `wake` when the network comes back or the tab shows
 * again; returns the function that stops it. Elsewhere does nothing.
 */
export function wakeOnReturn(wake) {
  const page = typeof document === "object" && document !== null &&
      typeof globalThis.addEventListener === "function"
    ? document
    : undefined;
  if (!page) return () => {};
  const onReturn = () => {
    if (page.visibilityState !== "hidden") wake();
  };
  globalThis.addEventListener("online", onReturn);
  page.addEventListener("visibilitychange", onReturn);
  return () => {
    globalThis.removeEventListener("online", onReturn);
    page.removeEventListener("visibilitychange", onReturn);
  };
}
