/**
 * Signs what the server sends to the site's backend (webhook events and the
 * publish hook's questions) with the Standard Webhooks scheme: the
 * `webhook-id`, `webhook-timestamp` and `webhook-signature` headers, an
 * HMAC-SHA256 over `id.timestamp.body` with a `whsec_…` secret, computed by
 * the `standardwebhooks` package. A receiver verifies with any Standard
 * Webhooks library. Two secrets may be configured while one is rotated:
 * each request then carries both signatures, so a receiver that knows
 * either accepts it.
 *
 * @module
 */

import { Webhook } from "standardwebhooks";

/** Secrets at once: the current one and the one being rotated out. */
export const MAX_SIGNING_SECRETS = 2;

/** A secret that the Standard Webhooks scheme cannot sign with. */
export class SigningSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SigningSecretError";
  }
}

/** The headers that carry a request's signature. */
export interface SignatureHeaders {
  readonly "webhook-id": string;
  readonly "webhook-timestamp": string;
  readonly "webhook-signature": string;
}

/** Whether `secret` has the `whsec_` prefix and base64 key the scheme uses. */
export function isSigningSecret(secret: string): boolean {
  if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret)) return false;
  try {
    new Webhook(secret);
    return true;
  } catch (error) {
    if (error instanceof Error) return false;
    throw error;
  }
}

/** Signs request bodies with one or two secrets. */
export class Signer {
  readonly #webhooks: readonly Webhook[];

  /**
   * `secrets`: one or two `whsec_…` secrets; a request carries a signature
   * for each. Throws a {@linkcode SigningSecretError} otherwise.
   */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0 || secrets.length > MAX_SIGNING_SECRETS) {
      throw new SigningSecretError(
        `Give one or ${MAX_SIGNING_SECRETS} signing secrets, not ${secrets.length}`,
      );
    }
    for (const secret of secrets) {
      if (!isSigningSecret(secret)) {
        // The secret itself stays out of the message: it may reach a log.
        throw new SigningSecretError(
          "A signing secret must be whsec_ followed by a base64 key",
        );
      }
    }
    this.#webhooks = secrets.map((secret) => new Webhook(secret));
  }

  /**
   * The headers for `body` sent as message `id` at `at`. The same `id` on
   * every attempt lets a receiver drop a repeat.
   */
  headers(id: string, at: Date, body: string): SignatureHeaders {
    return {
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": this.#webhooks
        .map((webhook) => webhook.sign(id, at, body))
        .join(" "),
    };
  }
}
