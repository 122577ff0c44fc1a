/**
 * What the client reads from the server's frames: each frame is checked
 * field by field (a frame of another shape changes nothing), and a refusal
 * becomes a {@linkcode ChatError}. See docs/protocol.md.
 *
 * @module
 */

/** A refusal: the server's `error` frame, or the client's own. */
export class ChatError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {{ cid?: string, status?: number, reason?: string, id?: number, until?: string | null }} [options]
   */
  constructor(code, message, options = {}) {
    super(message);
    this.name = "ChatError";
    this.code = code;
    if (options.cid !== undefined) this.cid = options.cid;
    if (options.reason !== undefined) this.reason = options.reason;
    if (options.id !== undefined) this.id = options.id;
    if (options.status !== undefined) this.status = options.status;
    if (options.until !== undefined) this.until = options.until;
  }
}

/** Whether `frame` is a stored message as docs/protocol.md describes it. */
export function isMessage(frame) {
  return typeof frame === "object" && frame !== null &&
    frame.type === "message" && Number.isInteger(frame.id) &&
    typeof frame.message === "string" && typeof frame.user === "string";
}

function strings(list) {
  return Array.isArray(list) ? list.filter((n) => typeof n === "string") : [];
}

/**
 * The change to the online list that a `join`, `leave`, `rename` or
 * `presence_change` frame tells (`{ joined, left, renamed, verified }`),
 * or undefined for any other frame.
 */
export function presenceChangeOf(frame) {
  switch (frame.type) {
    case "join":
      if (typeof frame.user !== "string") return undefined;
      return {
        joined: [frame.user],
        verified: frame.verified === true ? [frame.user] : [],
      };
    case "leave":
      return typeof frame.user === "string"
        ? { left: [frame.user] }
        : undefined;
    case "rename":
      if (typeof frame.from !== "string" || typeof frame.to !== "string") {
        return undefined;
      }
      return {
        renamed: [{
          from: frame.from,
          to: frame.to,
          verified: frame.verified === true,
        }],
      };
    case "presence_change":
      return {
        joined: strings(frame.joined),
        left: strings(frame.left),
        verified: strings(frame.verified),
        renamed: (Array.isArray(frame.renamed) ? frame.renamed : [])
          .filter((r) =>
            typeof r?.from === "string" && typeof r?.to === "string"
          )
          .map(({ from, to }) => ({ from, to, verified: false })),
      };
    default:
      return undefined;
  }
}

/** The refusal an `error` frame carries. */
export function refusalOf(frame) {
  const code = typeof frame.code === "string" ? frame.code : "error";
  const options = {};
  if (typeof frame.cid === "string") options.cid = frame.cid;
  if (typeof frame.reason === "string") options.reason = frame.reason;
  if (Number.isInteger(frame.id)) options.id = frame.id;
  if (typeof frame.until === "string" || frame.until === null) {
    options.until = frame.until;
  }
  return new ChatError(
    code,
    typeof frame.error === "string" ? frame.error : code,
    options,
  );
}
