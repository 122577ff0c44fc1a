/**
 * Starts the webhook sender the configuration asks for: none without
 * `CHAT_WEBHOOK_URL`, else one per isolate around the store's outbox (the
 * store's leases keep one sender at a time on each room).
 *
 * @module
 */

import { Signer } from "../adapters/webhooks/signing.ts";
import { WebhookSender } from "../adapters/webhooks/sender.ts";
import type { WebhookMetrics } from "../chat/outbox.ts";
import { type Store, StoreError } from "../chat/store.ts";
import type { Logger } from "../observability/log.ts";
import type { Config } from "./settings.ts";

/** Whether the configuration turns webhooks on. */
export function webhooksOn(config: Pick<Config, "webhookUrls">): boolean {
  return config.webhookUrls.length > 0;
}

/**
 * The sender for `config`, or undefined with webhooks off. `reportsBacklog`:
 * this isolate reports the shared outbox's backlog in its metrics (one per
 * process, so that the sum over workers counts it once).
 *
 * @throws {StoreError} when webhooks are on and the store keeps no outbox.
 */
export function startWebhooks(
  config: Config,
  store: Store,
  options: {
    readonly log: Logger;
    readonly metrics: WebhookMetrics;
    readonly reportsBacklog: boolean;
  },
): WebhookSender | undefined {
  if (!webhooksOn(config)) return undefined;
  if (store.outbox === undefined || config.webhookSecrets === undefined) {
    throw new StoreError(
      "CHAT_WEBHOOK_URL is set but the store keeps no webhook outbox",
      { kind: "other" },
    );
  }
  const metrics = options.metrics;
  return new WebhookSender({
    outbox: store.outbox,
    urls: config.webhookUrls,
    signer: new Signer(config.webhookSecrets),
    timeoutMs: config.webhookTimeoutMs,
    retryBaseMs: config.webhookRetryBaseMs,
    retryMaxMs: config.webhookRetryMaxMs,
    maxEvents: config.webhookMaxEvents,
    maxAgeMs: config.webhookMaxAgeMs === 0
      ? Number.MAX_SAFE_INTEGER
      : config.webhookMaxAgeMs,
    log: options.log,
    metrics: options.reportsBacklog ? metrics : { ...metrics, backlog() {} },
  });
}
