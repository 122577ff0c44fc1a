/**
 * The client's address behind reverse proxies (`CHAT_TRUSTED_PROXIES`): the
 * list of trusted proxies as a setting, and the address the limits, rate
 * buckets and logs key on. Only a peer in that list is believed about who
 * it forwards for (`X-Forwarded-For`, or RFC 7239 `Forwarded`); from anyone
 * else those headers are ignored, so a client cannot pick its own address.
 *
 * @module
 */

import * as ipBigint from "ip-bigint";

/** A parsed address: its family, and its bits as one number. */
interface IpAddress {
  readonly version: 4 | 6;
  readonly number: bigint;
}

/** How many bits an address of each family has. */
const WIDTH = { 4: 32, 6: 128 } as const;

/** A network: its address with the host bits cleared, and the prefix length. */
interface IpRange {
  readonly network: IpAddress;
  readonly bits: number;
}

/**
 * Parses an address as written in a setting or a header: IPv4 in four
 * decimal parts only (`127.1`, `0x7f.0.0.1` and `010.0.0.1` are refused:
 * nobody means them), or IPv6 without a zone, as it is written.
 */
function parseWrittenIp(text: string): IpAddress | undefined {
  // ipVersion() takes IPv4 in strict dotted decimal only, inside IPv6 too
  // (`::ffff:010.0.0.1` is refused), but it takes zones (`fe80::1%eth0`),
  // which name an interface on the writer's host: refused here.
  if (text.includes("%") || ipBigint.ipVersion(text) === 0) return undefined;
  // Checked just above; parseIp() would run the same check again.
  const { version, number } = ipBigint.parseIp(text, { validate: false });
  return { version, number };
}

/**
 * The IPv4 address an IPv4-mapped IPv6 address (`::ffff:0:0/96`, in any
 * spelling) stands for, or `undefined` for any other address. The
 * deprecated IPv4-compatible form is not mapped: `::10.0.0.1` is the IPv6
 * address `::a00:1` (RFC 4291, 2.5.5.1).
 */
function mappedIpv4(address: IpAddress): IpAddress | undefined {
  return address.version === 6 && address.number >> 32n === 0xffffn
    ? { version: 4, number: address.number & ipBigint.max4 }
    : undefined;
}

/**
 * Parses an address like {@linkcode parseWrittenIp}, an IPv4-mapped IPv6
 * address (what a dual-stack listener reports for an IPv4 peer) as its IPv4
 * address, so that `::ffff:127.0.0.1` and `127.0.0.1` are one client.
 */
function parseIp(text: string): IpAddress | undefined {
  const address = parseWrittenIp(text);
  return address && (mappedIpv4(address) ?? address);
}

/** `address`'s first `bits` bits, the rest cleared: its network's number. */
function networkNumber(address: IpAddress, bits: number): bigint {
  const hostBits = BigInt(WIDTH[address.version] - bits);
  return address.number >> hostBits << hostBits;
}

/** The range of `bits` leading bits around `address`. */
function rangeOf(address: IpAddress, bits: number): IpRange {
  const number = networkNumber(address, bits);
  return { network: { version: address.version, number }, bits };
}

/** Parses `address/bits`; a mapped IPv6 range as the IPv4 range it maps. */
function parseRange(text: string): IpRange | undefined {
  const slash = text.indexOf("/");
  const address = parseWrittenIp(text.slice(0, slash));
  const bitsText = text.slice(slash + 1);
  if (address === undefined || !/^\d{1,3}$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  if (bits > WIDTH[address.version]) return undefined;
  const ipv4 = mappedIpv4(address);
  if (ipv4 !== undefined) {
    // Narrower than ::ffff:0:0/96 it is an IPv4 range; wider, it is not.
    return bits >= 96 ? rangeOf(ipv4, bits - 96) : undefined;
  }
  return rangeOf(address, bits);
}

/** `network/bits`: `10.0.0.0/8`, `2001:db8::/32`. */
function describeRange({ network, bits }: IpRange): string {
  return `${canonical(network)}/${bits}`;
}

/**
 * Parses `CHAT_TRUSTED_PROXIES`: comma-separated IPv4 or IPv6 addresses or
 * CIDR ranges (`127.0.0.1, 10.0.0.0/8, ::1`, IPv6 optionally in brackets).
 * Returns each as a range in canonical form (`127.0.0.1/32`, `10.0.0.0/8`,
 * `::1/128`), or `undefined` when any entry is not an address or a range.
 * Host names are refused: a proxy is known by the address it connects from.
 */
export function parseTrustedProxies(
  text: string,
): readonly string[] | undefined {
  const ranges: string[] = [];
  for (const part of text.split(",")) {
    const item = part.trim().replace(/^\[([^\]]*)\]/, "$1");
    if (item === "") continue;
    let range: IpRange | undefined;
    if (item.includes("/")) {
      range = parseRange(item);
    } else {
      const address = parseIp(item);
      range = address && rangeOf(address, WIDTH[address.version]);
    }
    if (range === undefined) return undefined;
    ranges.push(describeRange(range));
  }
  return ranges;
}

/** Whether addresses belong to the trusted proxies. */
export interface TrustedProxies {
  /** Whether `address` is one of them. */
  includes(address: IpAddress): boolean;
}

/**
 * The trusted proxies, from the canonical ranges
 * {@linkcode parseTrustedProxies} returns. Throws a TypeError naming an
 * entry that is not such a range.
 */
export function trustedProxies(ranges: readonly string[]): TrustedProxies {
  const parsed = ranges.map((text) => {
    const range = text.includes("/") ? parseRange(text) : undefined;
    if (range === undefined) {
      throw new TypeError(
        `Trusted proxy ${JSON.stringify(text)} is not an address/bits range`,
      );
    }
    return range;
  });
  return {
    includes: (address) =>
      parsed.some(({ network, bits }) =>
        network.version === address.version &&
        networkNumber(address, bits) === network.number
      ),
  };
}

/**
 * The address as every log line and limit spells it: IPv4 in dotted
 * decimal, IPv6 compressed in lower case (RFC 5952).
 */
function canonical(address: IpAddress): string {
  return ipBigint.stringifyIp(address);
}

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
