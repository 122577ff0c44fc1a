/**
 * The parsers of the settings that reach the site's backend: the signing
 * secrets (`CHAT_WEBHOOK_SECRET`) and a hook's URL. Like the others in
 * `setting_parsers.ts`, they return `undefined` for text they refuse.
 *
 * @module
 */

import {
  isSigningSecret,
  MAX_SIGNING_SECRETS,
} from "../adapters/webhooks/signing.ts";

/** One or two comma-separated `whsec_…` secrets, the signing one first. */
export function parseSigningSecrets(
  text: string,
): readonly string[] | undefined {
  const secrets = text.split(",").map((part) => part.trim());
  if (secrets.length > MAX_SIGNING_SECRETS) return undefined;
  return secrets.every(isSigningSecret) ? secrets : undefined;
}

/**
 * An `http:` or `https:` URL without a user name or password: the
 * signature is what tells the site that a request is the chat's, and the
 * URL may then appear in logs.
 */
export function parseHookUrl(text: string): URL | undefined {
  const url = URL.parse(text.trim());
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    return undefined;
  }
  return url.username === "" && url.password === "" ? url : undefined;
}
