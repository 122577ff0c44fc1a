/**
 * Calls of the moderation routes of the server API for tests: with the
 * test key, expecting a status, reading a list's ids, and an upgrade's
 * refusal read without opening a socket.
 *
 * @module
 */

import assert from "node:assert/strict";
import { UPGRADE_HEADERS } from "./server.ts";

/** The server API key of the moderation tests' servers (`CHAT_API_KEY`). */
export const MODERATION_API_KEY = "test-api-key-0123456789abcdef";

/** The headers that carry {@linkcode MODERATION_API_KEY}. */
export const KEY_HEADERS: Readonly<Record<string, string>> = {
  Authorization: `Bearer ${MODERATION_API_KEY}`,
};

/** A server, in this process or a child. */
export interface ApiServer {
  readonly origin: string;
}

/** Sends `body` as JSON to `path`, with the key unless `headers` say else. */
export async function apiCall(
  server: ApiServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Readonly<Record<string, string>> = KEY_HEADERS,
): Promise<Response> {
  return await fetch(`${server.origin}${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/**
 * Calls like {@linkcode apiCall} and fails unless the answer is `status`;
 * returns its JSON (`{}` for an empty answer).
 */
export async function apiExpect(
  server: ApiServer,
  status: number,
  method: string,
  path: string,
  body?: unknown,
  headers?: Readonly<Record<string, string>>,
): Promise<Record<string, unknown>> {
  const response = await apiCall(server, method, path, body, headers);
  const text = await response.text();
  assert.equal(
    response.status,
    status,
    `${method} ${path} ${JSON.stringify(body)}: ${text}`,
  );
  return text === "" ? {} : JSON.parse(text);
}

/** The ids of the sanctions a list at `path` answers. */
export async function listedIds(
  server: ApiServer,
  path: string,
): Promise<string[]> {
  const answer = await apiExpect(server, 200, "GET", path);
  assert.ok(Array.isArray(answer.sanctions), JSON.stringify(answer));
  return answer.sanctions.map((s: { id: string }) => s.id);
}

/** The `id` of a sanction answered, checked to be a string. */
export function idOf(answer: Record<string, unknown>): string {
  assert.equal(typeof answer.id, "string", JSON.stringify(answer));
  return String(answer.id);
}

/** An upgrade's refusal, its status and JSON answer, without a socket. */
export async function refusedUpgrade(
  server: ApiServer,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.origin}${path}`, {
    headers: { ...UPGRADE_HEADERS, Origin: server.origin },
  });
  return { status: response.status, body: await response.json() };
}
