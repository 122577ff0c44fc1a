/**
 * The sign-in page: a token handed over in the URL fragment (`#token=`, as
 * the room page takes one) is removed from the address bar at once and
 * posted to /admin/session; with the admin role the console opens, else
 * the page says why. The API key form needs no script.
 *
 * @module
 */

import { fill, text } from "./console.js";

const token = new URLSearchParams(location.hash.slice(1)).get("token");
if (token) {
  history.replaceState(null, "", location.pathname + location.search);
  const response = await fetch("/admin/session", {
    method: "POST",
    credentials: "same-origin",
    body: new URLSearchParams({ token }),
  });
  if (response.ok) {
    location.replace("/admin/");
  } else {
    let reason = `HTTP ${response.status}`;
    try {
      const body = await response.json();
      if (typeof body?.error === "string") reason = body.error;
    } catch {
      // Not JSON: the status says enough.
    }
    const box = document.getElementById("admin-token-error");
    box.textContent = fill(text.tokenRefused, { error: reason });
    box.hidden = false;
  }
}
