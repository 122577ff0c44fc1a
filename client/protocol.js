/**
 * The protocol's names that both ends must agree on: the subprotocol and
 * every WebSocket close code the server sends, with what each means; the
 * one table of them (see docs/protocol.md). Plain JavaScript in the client
 * library's folder, so that the library carries it (in the browser, from
 * npm) while the server's TypeScript imports this same file.
 *
 * @module
 */

/** The subprotocol a client offers to receive the typed frames. */
export const CHAT_PROTOCOL = "chat.v1";

/**
 * How often the server hears one socket's `typing` frames; more are
 * dropped.
 */
export const TYPING_HEARD_EVERY_MS = 1_000;

/** Close codes the server uses, by what they mean. */
export const CloseCode = Object.freeze(
  /** @type {const} */ ({
    /** The server is going away (shutdown). */
    GoingAway: 1001,
    /** A binary frame arrived; the protocol is JSON text. */
    UnsupportedData: 1003,
    /** The client kept sending past its rate limit. */
    PolicyViolation: 1008,
    /** A frame was larger than the limit. */
    MessageTooBig: 1009,
    /** The room could not be loaded. */
    InternalError: 1011,
    /** The client stopped reading; too much data was waiting for it. */
    TryAgainLater: 1013,
    /** The token's `exp` has passed: fetch a fresh one and reconnect. */
    TokenExpired: 4001,
    /**
     * A moderator banned this user; do not reconnect. GET the socket URL to
     * read the reason and until when.
     */
    Banned: 4003,
    /** Another browser holds this name online in the room. */
    NameTaken: 4009,
    /** The site's backend removed this user from the room. */
    RemovedBySite: 4010,
  }),
);
