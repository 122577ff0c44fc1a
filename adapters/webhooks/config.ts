/**
 * How the settings of what goes to the site's backend are read: the
 * webhook receivers' URLs, the publish hook's URL and the signing secrets. A reader returns `undefined` for text it refuses; the settings
 * (`server/setting_declarations.ts`) turn that into a start-up error that
 * names the setting and never repeats a secret.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { isSigningSecret, MAX_SIGNING_SECRETS } from "./signing.ts";

/**
 * The name a receiver URL has in the outbox: a digest, so that a token in
 * the URL is not written to the store.
 */
export function receiverKey(url: string): string {
  return createHash("sha256").update(url).digest("hex").slice(0, 24);
}

/** Comma-separated items, trimmed, none empty; `undefined` for an empty one. */
function listOf(text: string): string[] | undefined {
  const items = text.split(",").map((item) => item.trim());
  return items.every((item) => item !== "") ? items : undefined;
}

/**
 * One or more comma-separated `http:` or `https:` URLs, each given once;
 * `undefined` when one is not.
 */
export function parseWebhookUrls(text: string): readonly string[] | undefined {
  const items = listOf(text);
  if (items === undefined) return undefined;
  const urls: string[] = [];
  for (const item of items) {
    if (!URL.canParse(item)) return undefined;
    const url = new URL(item);
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    if (urls.includes(url.href)) return undefined;
    urls.push(url.href);
  }
  return urls;
}

/**
 * One or two comma-separated `whsec_…` secrets (the first signs; both
 * during a rotation); `undefined` otherwise.
 */
export function parseSigningSecrets(
  text: string,
): readonly string[] | undefined {
  const items = listOf(text);
  if (items === undefined || items.length > MAX_SIGNING_SECRETS) {
    return undefined;
  }
  return items.every(isSigningSecret) ? items : undefined;
}

/**
 * The publish hook's URL: `http:` or `https:`, without a user name or
 * password (the signature is what tells the site that a request is the
 * chat's, and this URL may then appear in logs).
 */
export function parseHookUrl(text: string): URL | undefined {
  const url = URL.parse(text.trim());
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    return undefined;
  }
  return url.username === "" && url.password === "" ? url : undefined;
}
