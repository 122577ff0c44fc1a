/**
 * The client's address behind reverse proxies (`CHAT_TRUSTED_PROXIES`): the
 * address the limits, rate buckets and logs key on. Only a peer in that list is believed about who
 * it forwards for (`X-Forwarded-For`, or RFC 7239 `Forwarded`); from anyone
 * else those headers are ignored, so a client cannot pick its own address.
 *
 * @module
 */

import type { Context } from "hono";
import {
  canonical,
  type IpAddress,
  parseIp,
  type TrustedProxies,
} from "../chat/address_range.ts";

/**
 * One hop of a forwarding header, or what stands for an address: `hidden`
 * for RFC 7239's `unknown` and obfuscated (`_abc`) identifiers, `malformed`
 * for anything that is not an address.
 */
type Hop = IpAddress | "hidden" | "malformed";

/** A port after an address: digits, or RFC 7239's obfuscated `_port`. */
const PORT = /^(?:\d{1,5}|_[A-Za-z0-9._-]+)$/;

/**
 * Reads one node: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
 * `[2001:db8::1]`, `[2001:db8::1]:4711`, `unknown` or `_hidden`.
 */
function parseNode(text: string): Hop {
  if (text.toLowerCase() === "unknown" || /^_[A-Za-z0-9._-]+$/.test(text)) {
    return "hidden";
  }
  const withPort = text.match(/^\[([^\]]+)\](?::(.*))?$/) ??
    text.match(/^(\d{1,3}(?:\.\d{1,3}){3}):(.*)$/);
  if (withPort?.[1] === undefined) return parseIp(text) ?? "malformed";
  const port = withPort[2];
  if (port !== undefined && !PORT.test(port)) return "malformed";
  return parseIp(withPort[1]) ?? "malformed";
}

/**
 * Splits `text` at `separator` where it is outside a quoted string, as the
 * list and parameter syntax of RFC 7230 and RFC 7239 require.
 */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] ?? "";
    if (quoted && char === "\\") {
      current += char + (text[index + 1] ?? "");
      index++;
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === separator && !quoted) {
      parts.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/** A parameter value: a token, or a quoted string with `\` escapes undone. */
function unquote(value: string): string | undefined {
  if (!value.startsWith('"')) {
    return /^[^\s",;\\]+$/.test(value) ? value : undefined;
  }
  const quoted = value.match(/^"((?:[^"\\]|\\.)*)"$/);
  return quoted?.[1]?.replace(/\\(.)/g, "$1");
}

/** The hops of `X-Forwarded-For`, nearest last; empty list items skipped. */
function forwardedForHops(header: string): Hop[] {
  return header.split(",").map((item) => item.trim()).filter((item) =>
    item !== ""
  ).map(parseNode);
}

/**
 * The `for=` node of one `Forwarded` element (`for=192.0.2.60;proto=http`),
 * or `malformed`: a parameter without `=`, a bad or unclosed quoted string,
 * and an element without exactly one `for=` cannot say whom it forwarded.
 */
function forwardedElementHop(element: string): Hop {
  const nodes: string[] = [];
  for (const pair of splitOutsideQuotes(element, ";")) {
    if (pair.trim() === "") continue;
    const equals = pair.indexOf("=");
    if (equals < 0) return "malformed";
    const value = unquote(pair.slice(equals + 1).trim());
    if (value === undefined) return "malformed";
    if (pair.slice(0, equals).trim().toLowerCase() === "for") nodes.push(value);
  }
  const [node, ...extra] = nodes;
  return node === undefined || extra.length > 0 ? "malformed" : parseNode(node);
}

/**
 * The hops of an RFC 7239 `Forwarded` header, nearest last. A quote a
 * client left open swallows the elements after it into one malformed
 * element, the last: such a header is read as malformed, never as what the
 * client wrote.
 */
function forwardedHops(header: string): Hop[] {
  return splitOutsideQuotes(header, ",").filter((element) =>
    element.trim() !== ""
  ).map(forwardedElementHop);
}

/**
 * The client's address, given the `peer` that connected (the address
 * `Deno.serve` reports), the request's headers and the trusted proxies.
 *
 * From a peer that is not a trusted proxy, the peer is the client, whatever
 * its headers say. From a trusted proxy, the hops it reports are walked
 * from the nearest (rightmost) outwards, past every hop that is itself a
 * trusted proxy: the first one that is not is the client, and what lies
 * beyond it (written by the client, or by proxies nobody vouches for) is
 * never read. When every hop is trusted, the farthest is the client.
 * `X-Forwarded-For` is read when present, else the `for=` parameters of
 * `Forwarded`.
 *
 * A hop that is `unknown` or obfuscated stops the walk at the last address
 * known, the trusted proxy that hid its client. A malformed hop reached on
 * the walk (or a `Forwarded` header that does not parse) means the proxy
 * chain cannot be read: the peer is the client.
 *
 * Returns a canonical address: IPv4 as four decimals (IPv4-mapped IPv6
 * too), IPv6 compressed in lower case, or the peer text unchanged when it
 * is no IP address (a Unix socket, or `unknown` when nothing was reported).
 */
export function clientAddress(
  peer: string,
  headers: Headers,
  trusted: TrustedProxies,
): string {
  const peerAddress = parseIp(peer.replace(/^\[(.*)\]$/, "$1"));
  if (peerAddress === undefined) return peer;
  if (!trusted.includes(peerAddress)) return canonical(peerAddress);
  const forwardedFor = headers.get("x-forwarded-for");
  const forwarded = headers.get("forwarded");
  const hops = forwardedFor !== null && forwardedFor.trim() !== ""
    ? forwardedForHops(forwardedFor)
    : forwarded !== null
    ? forwardedHops(forwarded)
    : [];
  let nearest: IpAddress = peerAddress;
  for (const hop of hops.toReversed()) {
    if (hop === "malformed") return canonical(peerAddress);
    if (hop === "hidden") break;
    nearest = hop;
    if (!trusted.includes(hop)) break;
  }
  return canonical(nearest);
}

/**
 * The address of the peer as `Deno.serve` reported it, if it did: the
 * client, or the proxy in front of it. Read while the request is open
 * (Deno cannot tell it afterwards).
 */
export function peerAddress(c: Context): string {
  const info: unknown = c.env;
  if (
    typeof info === "object" && info !== null && "remoteAddr" in info &&
    typeof info.remoteAddr === "object" && info.remoteAddr !== null &&
    "hostname" in info.remoteAddr &&
    typeof info.remoteAddr.hostname === "string"
  ) {
    return info.remoteAddr.hostname;
  }
  return "unknown";
}
