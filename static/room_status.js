/**
 * The banner over the log that tells the reader the connection's state, as
 * the client library reports it: connecting, back soon (with "Retry now"),
 * or stopped, saying why in the reader's words (the name is taken, the
 * site removed them, the sign-in expired or was refused).
 *
 * @module
 */

import { CloseCode } from "../client/chat_client.js";

/**
 * The reader's words for the client's `state` event `detail`, and whether
 * to offer "Retry now"; an empty message hides the banner.
 */
function statusOf({ state, code }, text, signedIn) {
  switch (state) {
    case "open":
      return { message: "", canRetry: false };
    case "connecting":
      return { message: text.connecting, canRetry: false };
    case "reconnecting":
      return { message: text.disconnected, canRetry: true };
  }
  switch (code) {
    case CloseCode.NameTaken:
      return { message: text.nameTaken, canRetry: false };
    case CloseCode.RemovedBySite:
      return { message: text.removedBySite, canRetry: false };
    case CloseCode.TokenExpired:
      // Only the site can renew a token; a new #token= reconnects.
      return { message: text.tokenExpired, canRetry: false };
    case 400:
    case 401:
    case 403:
      return {
        message: signedIn ? text.signInRefused : text.connectionRefused,
        canRetry: true,
      };
    default:
      return { message: text.disconnected, canRetry: true };
  }
}

/**
 * Shows `chat`'s state in the banner from its elements. While it shows,
 * the online list is stale. `signedIn` answers whether the page holds a
 * token.
 */
export function showConnectionState(
  chat,
  { banner, label, retry, usersPanel },
  { text, signedIn },
) {
  const show = (detail) => {
    const { message, canRetry } = statusOf(detail, text, signedIn());
    label.textContent = message;
    banner.hidden = message === "";
    retry.hidden = !canRetry;
    usersPanel.classList.toggle("stale", message !== "");
  };
  chat.addEventListener("state", ({ detail }) => show(detail));
  retry.addEventListener("click", () => chat.reconnect());
  show({ state: chat.state });
}
