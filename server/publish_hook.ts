/**
 * Builds the publish hook from the configuration: none without
 * `CHAT_PUBLISH_HOOK_URL` (client messages then go straight to the store),
 * else the HTTP hook, signed with `CHAT_WEBHOOK_SECRET`.
 *
 * @module
 */

import { HttpPublishHook } from "../adapters/webhooks/publish_hook.ts";
import { Signer } from "../adapters/webhooks/signing.ts";
import type { Logger } from "../chat/logger.ts";
import type { ChatMetrics } from "../chat/metrics.ts";
import { type Config, ConfigError } from "./settings.ts";

/** The publish hook `config` asks for, if any. */
export function openPublishHook(
  config: Config,
  log: Logger,
  metrics: ChatMetrics,
): HttpPublishHook | undefined {
  const url = config.publishHookUrl;
  if (url === undefined) return undefined;
  const secrets = config.webhookSecrets;
  if (secrets === undefined) {
    // Checked with the settings already; a Config built by hand may lack it.
    throw new ConfigError(
      "CHAT_PUBLISH_HOOK_URL needs CHAT_WEBHOOK_SECRET to sign its requests with",
    );
  }
  return new HttpPublishHook({
    url,
    signer: new Signer(secrets),
    timeoutMs: config.publishHookTimeoutMs,
    failure: config.publishHookFailure,
    maxMessageChars: config.maxMessageChars,
    log,
    metrics,
  });
}
