/**
 * The banner over the log that tells the reader the connection's state, as
 * the client library reports it: connecting, back soon (with "Retry now"),
 * or stopped, saying why in the reader's words (the name is taken, the
 * site removed them, a moderator banned them, the sign-in expired, the
 * sign-in does not include this room). Where the server admits guests, a
 * refused sign-in is offered "Continue as a guest". While stopped, the
 * composer is disabled and says why, rather than queueing messages that no
 * connection will carry.
 *
 * @module
 */

import { CloseCode } from "../client/chat_client.js";

/**
 * The reader's words for the client's `state` event `detail`, whether to
 * offer "Retry now", and whether the page's token is what was refused; an
 * empty message hides the banner. `token` says whether the page holds a
 * token and whether it has expired.
 */
function statusOf({ state, code }, text, token) {
  switch (state) {
    case "open":
      return { message: "", canRetry: false, tokenRefused: false };
    case "connecting":
      return { message: text.connecting, canRetry: false, tokenRefused: false };
    case "reconnecting":
      return {
        message: text.disconnected,
        canRetry: true,
        tokenRefused: false,
      };
  }
  switch (code) {
    case CloseCode.NameTaken:
      return { message: text.nameTaken, canRetry: false, tokenRefused: false };
    case CloseCode.Banned:
      // room_moderation.js shows why and until when in place of the room.
      return {
        message: text.moderation.bannedTitle,
        canRetry: false,
        tokenRefused: false,
      };
    case CloseCode.RemovedBySite:
      return {
        message: text.removedBySite,
        canRetry: false,
        tokenRefused: false,
      };
    case CloseCode.TokenExpired:
      // Only the site can renew a token; a new #token= reconnects.
      return {
        message: text.tokenExpired,
        canRetry: false,
        tokenRefused: true,
      };
    case 401:
    case 403:
      if (token.held) {
        // The same token would be refused again: no "Retry now".
        if (code === 403) {
          return {
            message: text.noAccess,
            canRetry: false,
            tokenRefused: true,
          };
        }
        return {
          message: token.expired() ? text.tokenExpired : text.signInRefused,
          canRetry: false,
          tokenRefused: true,
        };
      }
      return {
        message: text.connectionRefused,
        canRetry: true,
        tokenRefused: false,
      };
    case 400:
      return {
        message: token.held ? text.signInRefused : text.connectionRefused,
        canRetry: true,
        tokenRefused: false,
      };
    default:
      return {
        message: text.disconnected,
        canRetry: true,
        tokenRefused: false,
      };
  }
}

/**
 * Shows `chat`'s state in the banner from its elements, and disables the
 * composer (its `input` and `submit`, with the `closed` note) while the
 * client has stopped. While the banner shows, the online list is stale.
 * `token` holds `held()` (the page has a token) and `expired()` (its `exp`
 * has passed); with `guestsAllowed`, a refused token offers `guest`, which
 * calls `continueAsGuest`.
 */
export function showConnectionState(
  chat,
  { banner, label, retry, guest, usersPanel, composer },
  { text, token, guestsAllowed, continueAsGuest },
) {
  const show = (detail) => {
    const { message, canRetry, tokenRefused } = statusOf(detail, text, {
      held: token.held(),
      expired: token.expired,
    });
    label.textContent = message;
    banner.hidden = message === "";
    retry.hidden = !canRetry;
    guest.hidden = !(tokenRefused && guestsAllowed);
    usersPanel.classList.toggle("stale", message !== "");
    const stopped = detail.state === "closed";
    composer.input.disabled = stopped;
    composer.submit.disabled = stopped;
    composer.closed.hidden = !stopped;
  };
  chat.addEventListener("state", ({ detail }) => show(detail));
  retry.addEventListener("click", () => chat.reconnect());
  guest.addEventListener("click", () => {
    guest.hidden = true;
    continueAsGuest();
  });
  show({ state: chat.state });
}
