/**
 * What the admin console's pages share: their text (one JSON data
 * attribute), the JSON calls to /admin/api/ (a 401 goes back to sign-in),
 * a refresh loop that rests while the tab is hidden, and element building.
 * Names, rooms and messages only ever reach the page through textContent.
 *
 * @module
 */

const main = document.getElementById("admin");

/** The page's text, in its language. */
export const text = JSON.parse(main?.dataset.text ?? "{}");

/** The page's language, for dates and numbers. */
export const lang = document.documentElement.lang || undefined;

/** `template` with each `{name}` replaced by `values[name]`, as text. */
export function fill(template, values) {
  return template.replace(
    /\{(\w+)\}/g,
    (whole, name) => name in values ? String(values[name]) : whole,
  );
}

/**
 * Calls `/admin/api/<path>`; resolves the JSON answer (null for 204) or
 * rejects with the server's reason. A 401 means the session ended: back to
 * sign-in.
 */
export async function api(path, init = {}) {
  const headers = { Accept: "application/json" };
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/admin/api/${path}`, {
    credentials: "same-origin",
    ...init,
    headers,
  });
  if (response.status === 401) {
    location.assign("/admin/");
    throw new Error(text.signedOut);
  }
  if (!response.ok) {
    let reason = `HTTP ${response.status}`;
    try {
      const body = await response.json();
      if (typeof body?.error === "string") reason = body.error;
    } catch {
      // Not JSON: the status says enough.
    }
    throw new Error(reason);
  }
  return response.status === 204 ? null : await response.json();
}

/** Shows `message` in the page's status line. */
export function status(message) {
  const line = document.getElementById("admin-status");
  if (line) line.textContent = message;
}

/**
 * Runs `refresh` now and every `ms` while the tab is visible, and at once
 * when it shows again; says in the status line when it last worked.
 * Returns a function that refreshes now (after a change).
 */
export function refreshEvery(ms, refresh) {
  let timer;
  const run = async () => {
    clearTimeout(timer);
    try {
      await refresh();
      status(fill(text.updated, { time: new Date().toLocaleTimeString(lang) }));
    } catch (error) {
      status(fill(text.failed, { error: error.message }));
    }
    if (!document.hidden) timer = setTimeout(run, ms);
  };
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) run();
  });
  run();
  return run;
}

/**
 * A new `tag` element with `props` (attributes; `text` sets textContent,
 * `on` a click handler) and `children` (nodes or strings, added as text).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "on") node.addEventListener("click", value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children);
  return node;
}

/** Replaces the children of `list` by `items`; shows `empty` when none. */
export function show(list, items, empty) {
  list.replaceChildren(...items);
  if (empty) empty.hidden = items.length > 0;
}

/** A time as the reader writes it. */
export function timeText(iso) {
  return new Date(iso).toLocaleString(lang);
}

/** Until when a sanction lasts, as a sentence part. */
export function untilText(until) {
  return until === null
    ? text.forGood
    : fill(text.until, { time: timeText(until) });
}

/** A number as the reader writes it, with at most `digits` decimals. */
export function numberText(value, digits = 0) {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits })
    .format(value);
}

/** Bytes in MiB. */
export function bytesText(bytes) {
  return `${numberText(bytes / 1048576, 1)} MiB`;
}

/** The link to a room's console page. */
export function roomHref(room) {
  return `/admin/rooms/${encodeURIComponent(room)}`;
}
