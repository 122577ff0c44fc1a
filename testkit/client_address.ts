/** Helpers for client-address tests: a trusted-proxies setting from its text, and the address a request resolves to. @module */

import assert from "node:assert/strict";
import { clientAddress } from "../http/client_address.ts";
import { parseTrustedProxies, trustedProxies } from "../chat/address_range.ts";

/** The trusted proxies of a setting's text, as the server would hold them. */
export function trusting(text: string) {
  const ranges = parseTrustedProxies(text);
  assert.ok(ranges, `${JSON.stringify(text)} was refused`);
  return trustedProxies(ranges);
}

/** The client address of a request from `peer` with `headers`. */
export function addressOf(
  peer: string,
  headers: Record<string, string>,
  trusted = "127.0.0.1, 10.0.0.0/8, ::1",
): string {
  return clientAddress(peer, new Headers(headers), trusting(trusted));
}
