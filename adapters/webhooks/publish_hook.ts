/**
 * The publish hook over HTTP: each client message is POSTed to the site's
 * backend as JSON, signed with the Standard Webhooks scheme (`signing.ts`),
 * and the answer, read within the timeout, becomes the verdict: allow,
 * reject with a reason, or replace the text. A timeout, a network error,
 * an answer other than 2xx, or a body that is not a valid verdict is a
 * failure, which the failure policy turns into `allow` or `unchecked`. A
 * run of failures is logged once when it starts and once when it ends.
 *
 * @module
 */

import { parseSendMessage } from "../../chat/client_frames.ts";
import type { Logger } from "../../chat/logger.ts";
import type { ChatMetrics } from "../../chat/metrics.ts";
import type {
  PublishHook,
  PublishHookOutcome,
  PublishQuestion,
  PublishVerdict,
} from "../../chat/publish_hook.ts";
import { DeadlineError, within } from "../../platform/deadline.ts";
import type { Signer } from "./signing.ts";

/** What the server does when the hook cannot answer. */
export type PublishHookFailure = "allow" | "reject";

/** The `type` of the hook's request body. */
export const PUBLISH_HOOK_TYPE = "message.publish";

/** The longest `reason` of a reject passed on to the sender. */
export const MAX_REJECT_REASON_CHARS = 500;

/** What a reject without a usable `reason` tells the sender. */
export const DEFAULT_REJECT_REASON = "The site did not accept this message";

/** Bytes of the hook's answer read at most; a verdict is small. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** Options of {@linkcode HttpPublishHook}. */
export interface HttpPublishHookOptions {
  /** Where the questions are POSTed. */
  readonly url: URL;
  readonly signer: Signer;
  /** How long an answer may take, in ms, reading it included. */
  readonly timeoutMs: number;
  /** What a failure of the hook becomes. */
  readonly failure: PublishHookFailure;
  /** A replacement longer than this (in characters) is a failure. */
  readonly maxMessageChars: number;
  readonly log: Logger;
  readonly metrics: ChatMetrics;
  /** Clock for `ts` and the signature. @default () => new Date() */
  readonly now?: () => Date;
}

/** What the hook itself may answer. */
export type HookAnswer = Exclude<PublishVerdict, { action: "unchecked" }>;

/** Why a call of the hook failed, for the log. */
class HookFailure extends Error {
  override name = "HookFailure";
}

/** Asks the site's backend over HTTP. */
export class HttpPublishHook implements PublishHook {
  readonly #options: HttpPublishHookOptions;
  readonly #now: () => Date;
  /** Failures in a row; a run is logged as it starts and as it ends. */
  #failures = 0;
  /** Ends the questions still out when the server closes. */
  readonly #inFlight = new Set<AbortController>();
  #closed = false;

  constructor(options: HttpPublishHookOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Ends the questions still out, and refuses those asked from now on, as
   * `unchecked`: the server is closing and stores nothing more.
   */
  close(): void {
    this.#closed = true;
    for (const aborter of this.#inFlight) aborter.abort();
  }

  async screen(question: PublishQuestion): Promise<PublishVerdict> {
    if (this.#closed) return { action: "unchecked" };
    const started = performance.now();
    const { verdict, outcome } = await this.#ask(question);
    this.#options.metrics.publishHook(
      outcome,
      (performance.now() - started) / 1000,
    );
    return verdict;
  }

  async #ask(
    question: PublishQuestion,
  ): Promise<{ verdict: PublishVerdict; outcome: PublishHookOutcome }> {
    const { timeoutMs, failure, log } = this.#options;
    const aborter = new AbortController();
    this.#inFlight.add(aborter);
    let verdict: HookAnswer;
    try {
      verdict = await within(
        this.#call(question, aborter.signal),
        timeoutMs,
        "publish hook",
      );
    } catch (error) {
      aborter.abort();
      if (this.#closed) {
        return { verdict: { action: "unchecked" }, outcome: "failed" };
      }
      if (!(error instanceof HookFailure || error instanceof DeadlineError)) {
        throw error;
      }
      this.#failures++;
      if (this.#failures === 1) {
        log.warn("publish_hook.failing", {
          reason: error.message,
          policy: failure,
        });
      }
      return {
        verdict: failure === "allow"
          ? { action: "allow" }
          : { action: "unchecked" },
        outcome: "failed",
      };
    } finally {
      this.#inFlight.delete(aborter);
    }
    if (this.#failures > 0) {
      log.info("publish_hook.recovered", { failed: this.#failures });
      this.#failures = 0;
    }
    return { verdict, outcome: OUTCOMES[verdict.action] };
  }

  async #call(
    question: PublishQuestion,
    signal: AbortSignal,
  ): Promise<HookAnswer> {
    const { url, signer, maxMessageChars } = this.#options;
    const at = this.#now();
    const id = `msg_${crypto.randomUUID()}`;
    const { room, ...data } = question;
    const body = JSON.stringify({
      type: PUBLISH_HOOK_TYPE,
      id,
      room,
      ts: at.toISOString(),
      data,
    });
    const headers = {
      "content-type": "application/json",
      ...signer.headers(id, at, body),
    };
    let text: string;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers,
        body,
        signal,
        redirect: "manual",
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new HookFailure(`the hook answered ${response.status}`);
      }
      text = await readBounded(response);
    } catch (error) {
      if (error instanceof HookFailure || signal.aborted) throw error;
      // The error's own text may repeat the URL; its kind is enough.
      throw new HookFailure(
        `the request to the hook failed (${
          error instanceof Error ? error.name : "unknown error"
        })`,
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      throw new HookFailure("the hook's answer is not JSON");
    }
    return parseVerdict(value, maxMessageChars);
  }
}

const OUTCOMES: Record<HookAnswer["action"], PublishHookOutcome> = {
  allow: "allowed",
  reject: "rejected",
  replace: "replaced",
};

/** The answer's text, or a failure when it is longer than a verdict can be. */
async function readBounded(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new HookFailure(
        `the hook's answer is larger than ${MAX_ANSWER_BYTES} bytes`,
      );
    }
    text += decoder.decode(value, { stream: true });
  }
}

/**
 * The verdict in the hook's answer: `{"action":"allow"}`,
 * `{"action":"reject","reason":"…"}` or `{"action":"replace","message":"…"}`,
 * the replacement checked as a client's message is. Throws a
 * {@linkcode HookFailure} for anything else.
 */
export function parseVerdict(
  value: unknown,
  maxMessageChars: number,
): HookAnswer {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HookFailure("the hook's answer is not a JSON object");
  }
  const action = "action" in value ? value.action : undefined;
  if (action === "allow") return { action };
  if (action === "reject") {
    const reason = "reason" in value && typeof value.reason === "string"
      ? [...value.reason.toWellFormed().trim()]
        .slice(0, MAX_REJECT_REASON_CHARS).join("")
      : "";
    return { action, reason: reason || DEFAULT_REJECT_REASON };
  }
  if (action === "replace") {
    const message = "message" in value ? value.message : undefined;
    const checked = parseSendMessage({ message }, { maxMessageChars });
    if (!checked.ok) {
      throw new HookFailure(
        `the hook's replacement is refused: ${checked.error.error}`,
      );
    }
    return { action, message: checked.frame.message };
  }
  throw new HookFailure(
    `the hook's answer needs "action": "allow", "reject" or "replace"`,
  );
}
