/**
 * How a socket session ends on the server's side: a frame too big to read,
 * a close sent one task later so that Deno keeps its frame, a flooder's
 * close that waits (boundedly) for its accepted messages, and the close at
 * a signed token's expiry.
 *
 * @module
 */

import type { Identity } from "../chat/identity.ts";
import { setLongTimeout } from "../chat/long_timer.ts";

const encoder = new TextEncoder();

/** Whether `text` is over `max` UTF-8 bytes, encoding only when it must. */
export function isOverBytes(text: string, max: number): boolean {
  if (text.length > max) return true; // every UTF-16 unit is ≥ 1 byte
  if (text.length * 3 <= max) return false; // every unit is ≤ 3 bytes
  return encoder.encode(text).length > max;
}

/**
 * Closes `socket` on the next macrotask. Deno loses its own close frame when
 * `close()` runs inside a `message` callback while the peer keeps sending
 * (both ends then see an abnormal close, see denoland/deno#21642); closing
 * one task later delivers the code and reason intact.
 */
export function closeSoon(
  socket: WebSocket,
  code: number,
  reason: string,
): void {
  setTimeout(() => socket.close(code, reason), 0);
}

/**
 * The longest a flooding socket's close waits for the messages it had
 * accepted to be stored and echoed: a store that hangs must not keep a
 * flooder connected.
 */
export const FLUSH_BEFORE_CLOSE_MS = 5000;

/**
 * Settles once `accepted` settles (either way), or after
 * {@linkcode FLUSH_BEFORE_CLOSE_MS} at the latest.
 */
export function flushedOrLate(accepted: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, FLUSH_BEFORE_CLOSE_MS);
  });
  return Promise.race([accepted.then(() => {}, () => {}), bound]).then(() =>
    clearTimeout(timer)
  );
}

/**
 * Calls `expire` at the token's `exp`: a token is good until then, and the
 * page comes back with a fresh one. Returns what cancels it; nothing to
 * cancel for a socket without a token.
 */
export function expireWithToken(
  identity: Identity | undefined,
  expire: () => void,
): (() => void) | undefined {
  if (!identity) return undefined;
  return setLongTimeout(expire, identity.expiresAt - Date.now());
}
