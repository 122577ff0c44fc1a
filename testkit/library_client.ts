/**
 * The client library (client/chat_client.js) in tests: a client with the
 * log of its events, opened until caught up, and checks of its refusals.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ChatClient,
  type ChatClientEventMap,
  type ChatClientOptions,
  ChatError,
} from "../client/chat_client.js";
import { EventLog } from "./event_log.ts";

/** Every event the client dispatches. */
export const CLIENT_EVENTS = [
  "message",
  "delete",
  "edit",
  "reactions",
  "typing",
  "history",
  "presence",
  "rename",
  "state",
  "error",
  "muted",
  "unmuted",
  "banned",
  "role",
  "moderated",
] as const;

/** Quick retries, so that a restart costs a test little. */
export const QUICK_BACKOFF = { baseMs: 50, capMs: 300 } as const;

/** A client with the log of its events; disposing closes both. */
export interface LoggedClient extends Disposable {
  readonly client: ChatClient;
  readonly log: EventLog<ChatClientEventMap>;
}

/** A client of `url` and its event log, not waiting for anything. */
export function loggedClient(
  url: string,
  options: ChatClientOptions,
): LoggedClient {
  const chat = new ChatClient(url, { backoff: QUICK_BACKOFF, ...options });
  const log = new EventLog<ChatClientEventMap>(chat, CLIENT_EVENTS);
  return {
    client: chat,
    log,
    [Symbol.dispose]() {
      chat.close();
      log[Symbol.dispose]();
    },
  };
}

/** A client of `url` that has caught up (state `open`). */
export async function openClient(
  url: string,
  options: ChatClientOptions,
): Promise<LoggedClient> {
  const opened = loggedClient(url, options);
  await opened.log.waitFor("state", (d) => d.state === "open");
  return opened;
}

/** How many times `log` recorded the state `open`. */
export function opens(log: EventLog<ChatClientEventMap>): number {
  return log.of("state").filter((d) => d.state === "open").length;
}

/** The texts of the `message` events `log` recorded, in order. */
export function texts(log: EventLog<ChatClientEventMap>): string[] {
  return log.of("message").map((m) => m.message);
}

/** Asserts that `promise` rejects with a ChatError of `code`. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ChatError, `a ChatError: ${error}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}
