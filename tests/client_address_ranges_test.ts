import assert from "node:assert/strict";
import fc from "fast-check";
import { parseTrustedProxies } from "../chat/address_range.ts";
import { addressOf } from "../testkit/client_address.ts";

/** `bits` ("0" and "1") as an IPv4 or IPv6 address, written out in full. */
function addressFromBits(bits: string): string {
  const size = bits.length === 32 ? 8 : 16;
  const parts = bits.match(new RegExp(`.{${size}}`, "g")) ?? [];
  return bits.length === 32
    ? parts.map((part) => parseInt(part, 2)).join(".")
    : parts.map((part) => parseInt(part, 2).toString(16)).join(":");
}

/** Whether 128 `bits` are in `::ffff:0:0/96`: an IPv4 address, mapped. */
function isMapped(bits: string): boolean {
  return bits.startsWith("0".repeat(80) + "1".repeat(16));
}

/** `bits` with the bit at `index` flipped. */
function flipBit(bits: string, index: number): string {
  return bits.slice(0, index) + (bits[index] === "0" ? "1" : "0") +
    bits.slice(index + 1);
}

/**
 * An address's bits and a prefix length, the range they make, and the bits
 * of a peer: any address, or one a single bit away, where mistakes show.
 */
const rangeAndPeer = fc.constantFrom(32, 128).chain((width) =>
  fc.tuple(
    fc.stringMatching(new RegExp(`^[01]{${width}}$`)),
    fc.integer({ min: 0, max: width }),
  ).chain(([networkBits, prefix]) =>
    fc.tuple(
      fc.constant(networkBits),
      fc.constant(prefix),
      fc.oneof(
        fc.stringMatching(new RegExp(`^[01]{${width}}$`)),
        fc.integer({ min: 0, max: width - 1 }).map((index) =>
          flipBit(networkBits, index)
        ),
      ),
    )
  )
);

Deno.test("trusted ranges, for any address and prefix", async (t) => {
  await t.step(
    "a peer is trusted exactly when its leading bits are the range's",
    () => {
      fc.assert(
        fc.property(rangeAndPeer, ([networkBits, prefix, peerBits]) => {
          fc.pre(!isMapped(networkBits) && !isMapped(peerBits));
          const peer = addressFromBits(peerBits);
          // A hop of the other family, so that it is never the peer too.
          const hop = peerBits.length === 32 ? "2001:db8::7" : "203.0.113.7";
          const answer = addressOf(
            peer,
            { "X-Forwarded-For": hop },
            `${addressFromBits(networkBits)}/${prefix}`,
          );
          const trusted =
            peerBits.slice(0, prefix) === networkBits.slice(0, prefix);
          assert.equal(answer === hop, trusted, `${peer} in /${prefix}`);
        }),
        { numRuns: 2000 },
      );
    },
  );

  await t.step("a range is kept as its network, host bits cleared", () => {
    fc.assert(
      fc.property(rangeAndPeer, ([networkBits, prefix]) => {
        fc.pre(!isMapped(networkBits));
        const width = networkBits.length;
        const network = addressFromBits(
          networkBits.slice(0, prefix) + "0".repeat(width - prefix),
        );
        const [range] = parseTrustedProxies(
          `${addressFromBits(networkBits)}/${prefix}`,
        ) ?? [];
        assert.deepEqual(parseTrustedProxies(`${network}/${prefix}`), [
          range,
        ]);
        assert.equal(range?.split("/")[1], String(prefix));
        // Canonical already: read again, it is written the same way.
        assert.deepEqual(parseTrustedProxies(range ?? ""), [range]);
      }),
      { numRuns: 2000 },
    );
  });
});
