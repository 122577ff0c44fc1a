/**
 * Epochs of a room's message log (see `RoomPosition` in store.ts): how one
 * is made, what one may look like on the wire, and how a message carries
 * its epoch over the bus.
 *
 * @module
 */

/** What an epoch may look like, from a client or the bus. */
const EPOCH = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether `value` can be an epoch. */
export function isEpoch(value: unknown): value is string {
  return typeof value === "string" && EPOCH.test(value);
}

/** A new random epoch: 16 hex digits (64 bits). */
export function newEpoch(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0"))
    .join("");
}

/**
 * The serialised message frame `text` with its log's `epoch` added, for the
 * bus: the receiving rooms compare it with their own. Clients get the frame
 * without it, as they know the epoch from their history frame.
 */
export function withEpoch(text: string, epoch: string): string {
  if (epoch === "" || !text.endsWith("}")) return text;
  return `${text.slice(0, -1)},"epoch":${JSON.stringify(epoch)}}`;
}
