/**
 * IP addresses and CIDR ranges as settings and forwarding headers write
 * them: parsing into numbers, canonical spelling, and membership in a list
 * of ranges. Pure parsing, so that both the settings and the HTTP edge can
 * use it.
 *
 * @module
 */

import * as ipBigint from "ip-bigint";

/** A parsed address: its family, and its bits as one number. */
export interface IpAddress {
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
export function parseIp(text: string): IpAddress | undefined {
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
export function canonical(address: IpAddress): string {
  return ipBigint.stringifyIp(address);
}
