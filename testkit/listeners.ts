/**
 * The TCP sockets listening on a port, read from `/proc/net/tcp` and
 * `/proc/net/tcp6`: what the kernel says the server bound, whatever the
 * server claims.
 *
 * @module
 */

/** One listening socket: its local address, written the usual way. */
export interface ListeningSocket {
  readonly address: string;
  readonly port: number;
  readonly family: "ipv4" | "ipv6";
}

/** `/proc/net/tcp` writes IPv4 as one little-endian hex word. */
function ipv4(hex: string): string {
  const bytes = hex.match(/../g)?.map((byte) => parseInt(byte, 16)) ?? [];
  return bytes.reverse().join(".");
}

/** `/proc/net/tcp6` writes IPv6 as four little-endian hex words. */
function ipv6(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) => (word.match(/../g) ?? []).reverse());
  const groups: string[] = [];
  for (let i = 0; i < bytes.length; i += 2) {
    groups.push(
      String(parseInt(`${bytes[i]}${bytes[i + 1]}`, 16).toString(16)),
    );
  }
  // Canonical text form, through the URL parser.
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}

const LISTEN = "0A";

/** Every socket in state LISTEN on `port`, IPv4 and IPv6. */
export async function listenersOn(port: number): Promise<ListeningSocket[]> {
  const found: ListeningSocket[] = [];
  for (const family of ["ipv4", "ipv6"] as const) {
    const file = family === "ipv4" ? "/proc/net/tcp" : "/proc/net/tcp6";
    const text = await Deno.readTextFile(file);
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, , state] = fields.slice(1, 4);
      if (!local || state !== LISTEN) continue;
      const [hexAddress = "", hexPort = ""] = local.split(":");
      if (parseInt(hexPort, 16) !== port) continue;
      found.push({
        address: family === "ipv4" ? ipv4(hexAddress) : ipv6(hexAddress),
        port,
        family,
      });
    }
  }
  return found;
}
