import assert from "node:assert/strict";
import fc from "fast-check";
import { parseTrustedProxies, trustedProxies } from "../chat/address_range.ts";
import { clientAddress } from "../http/client_address.ts";

/** The trusted proxies of a setting's text, as the server would hold them. */
function trusting(text: string) {
  const ranges = parseTrustedProxies(text);
  assert.ok(ranges, `${JSON.stringify(text)} was refused`);
  return trustedProxies(ranges);
}

/** The client address of a request from `peer` with `headers`. */
function addressOf(
  peer: string,
  headers: Record<string, string>,
  trusted = "127.0.0.1, 10.0.0.0/8, ::1",
): string {
  return clientAddress(peer, new Headers(headers), trusting(trusted));
}

Deno.test("trusted proxies setting", async (t) => {
  await t.step("takes addresses and ranges, in canonical form", () => {
    assert.deepEqual(
      parseTrustedProxies("127.0.0.1, 10.1.2.3/8, ::1, [2001:DB8::1]/32"),
      ["127.0.0.1/32", "10.0.0.0/8", "::1/128", "2001:db8::/32"],
    );
  });

  await t.step("reads IPv4-mapped IPv6 entries as IPv4 ones", () => {
    assert.deepEqual(
      parseTrustedProxies("::ffff:127.0.0.1, ::ffff:10.0.0.0/104"),
      ["127.0.0.1/32", "10.0.0.0/8"],
    );
  });

  await t.step(
    "reads IPv4-mapped entries in hex as IPv4 ones too",
    () => {
      assert.deepEqual(
        parseTrustedProxies("::ffff:7f00:1, ::FFFF:a00:0/104"),
        ["127.0.0.1/32", "10.0.0.0/8"],
      );
    },
  );

  await t.step(
    "a mapped range is an IPv4 range from /96 on, and refused wider",
    () => {
      assert.deepEqual(parseTrustedProxies("::ffff:0:0/96"), ["0.0.0.0/0"]);
      assert.deepEqual(parseTrustedProxies("::ffff:10.1.2.3/128"), [
        "10.1.2.3/32",
      ]);
      assert.equal(parseTrustedProxies("::ffff:0:0/95"), undefined);
      // Not a mapped address, so an IPv6 range like any other.
      assert.deepEqual(parseTrustedProxies("::/95"), ["::/95"]);
    },
  );

  await t.step(
    "an IPv4-compatible address (::a.b.c.d, deprecated) stays IPv6",
    () => {
      // RFC 4291 2.5.5.1: `::10.0.0.1` is `::a00:1`, not 10.0.0.1.
      assert.deepEqual(parseTrustedProxies("::10.0.0.1"), ["::a00:1/128"]);
    },
  );

  await t.step("clears host bits and spells prefixes in one way", () => {
    assert.deepEqual(
      parseTrustedProxies(
        "10.1.2.3/0, 10.1.2.3/008, 10.1.2.3/31, 2001:db8:aa:bb::1/48, ::1/0",
      ),
      ["0.0.0.0/0", "10.0.0.0/8", "10.1.2.2/31", "2001:db8:aa::/48", "::/0"],
    );
  });

  await t.step("writes IPv6 as RFC 5952 says", () => {
    assert.deepEqual(
      parseTrustedProxies(
        "2001:0DB8:0000:0000:0001:0000:0000:0001, 2001:db8:0:1:1:1:1:1, " +
          "2001:db8::1:0:0:0:1, 1:2:3:4:5:6:7::",
      ),
      [
        // The first of two equally long runs of zeros is the one left out,
        "2001:db8::1:0:0:1/128",
        // a single zero group is written,
        "2001:db8:0:1:1:1:1:1/128",
        // and the longest run wins wherever it is.
        "2001:db8:0:1::1/128",
        "1:2:3:4:5:6:7:0/128",
      ],
    );
  });

  await t.step("an empty list trusts nobody", () => {
    assert.deepEqual(parseTrustedProxies(""), []);
    assert.deepEqual(parseTrustedProxies(" , "), []);
  });

  await t.step("refuses names, short forms, zones and bad prefixes", () => {
    for (
      const text of [
        "proxy.example",
        "localhost",
        "127.1",
        "0x7f.0.0.1",
        "010.0.0.1",
        "10.0.0.0/33",
        "::1/129",
        "10.0.0.0/",
        "10.0.0.0/-1",
        "fe80::1%eth0",
        "fe80::1%eth0/64",
        "127.0.0.1, nope",
        "1::2::3",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7:8::",
        "12345::1",
        "g::1",
        "::ffff:010.0.0.1",
        "::ffff:0x7f.0.0.1",
        "::ffff:127.1",
        "::ffff:256.0.0.1",
        "1.2.3.4.5",
        "256.0.0.1",
        " 127.0.0.1/ 8",
        "10.0.0.0/8/8",
        "10.0.0.0/0x8",
        "10.0.0.0/+8",
        "10.0.0.0/1000",
        "[10.0.0.1",
      ]
    ) {
      assert.equal(parseTrustedProxies(text), undefined, text);
    }
  });

  await t.step("trustedProxies refuses what the setting would not give", () => {
    assert.throws(() => trustedProxies(["127.0.0.1"]), TypeError);
  });
});

Deno.test("client address", async (t) => {
  await t.step(
    "from an untrusted peer, forwarding headers change nothing",
    () => {
      const spoofs = [
        { "X-Forwarded-For": "10.9.9.9" },
        { "X-Forwarded-For": "203.0.113.7, 127.0.0.1" },
        { Forwarded: "for=203.0.113.7" },
      ];
      for (const headers of spoofs) {
        assert.equal(addressOf("198.51.100.20", headers), "198.51.100.20");
      }
    },
  );

  await t.step("with nobody trusted, the peer is always the client", () => {
    assert.equal(
      addressOf("127.0.0.1", { "X-Forwarded-For": "203.0.113.7" }, ""),
      "127.0.0.1",
    );
  });

  await t.step(
    "from a trusted peer, the rightmost untrusted X-Forwarded-For entry is the client",
    () => {
      // The client wrote the first entry itself; the proxy appended the
      // address it saw.
      assert.equal(
        addressOf("127.0.0.1", {
          "X-Forwarded-For": "6.6.6.6, 203.0.113.7",
        }),
        "203.0.113.7",
      );
    },
  );

  await t.step(
    "a chain of trusted proxies is walked past, to the first untrusted hop",
    () => {
      assert.equal(
        addressOf("127.0.0.1", {
          "X-Forwarded-For": "6.6.6.6, 203.0.113.7, 10.0.0.5, 10.20.0.1",
        }),
        "203.0.113.7",
      );
    },
  );

  await t.step("when every hop is trusted, the leftmost is the client", () => {
    assert.equal(
      addressOf("127.0.0.1", { "X-Forwarded-For": "10.0.0.9, 10.0.0.5" }),
      "10.0.0.9",
    );
  });

  await t.step("several X-Forwarded-For lines read as one list", () => {
    const headers = new Headers();
    headers.append("X-Forwarded-For", "6.6.6.6");
    headers.append("X-Forwarded-For", "203.0.113.7");
    assert.equal(
      clientAddress("127.0.0.1", headers, trusting("127.0.0.1")),
      "203.0.113.7",
    );
  });

  await t.step(
    "a trusted peer without forwarding headers is itself the client",
    () => {
      assert.equal(addressOf("127.0.0.1", {}), "127.0.0.1");
      assert.equal(
        addressOf("127.0.0.1", { "X-Forwarded-For": " " }),
        "127.0.0.1",
      );
    },
  );

  await t.step(
    "X-Forwarded-For entries may carry ports and IPv6 brackets",
    () => {
      assert.equal(
        addressOf("127.0.0.1", { "X-Forwarded-For": "203.0.113.7:51234" }),
        "203.0.113.7",
      );
      assert.equal(
        addressOf("127.0.0.1", { "X-Forwarded-For": "2001:DB8:0:0::17" }),
        "2001:db8::17",
      );
      assert.equal(
        addressOf("127.0.0.1", {
          "X-Forwarded-For": "[2001:db8::17]:4711",
        }),
        "2001:db8::17",
      );
    },
  );

  await t.step(
    "X-Forwarded-For wins over Forwarded when both are sent",
    () => {
      assert.equal(
        addressOf("127.0.0.1", {
          "X-Forwarded-For": "203.0.113.7",
          Forwarded: "for=198.51.100.1",
        }),
        "203.0.113.7",
      );
    },
  );

  await t.step("Forwarded is read in each of its RFC 7239 forms", () => {
    const cases: [string, string][] = [
      ["for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"],
      ["For=192.0.2.60", "192.0.2.60"],
      ['for="192.0.2.43:47011"', "192.0.2.43"],
      ['for="[2001:db8:cafe::17]:4711"', "2001:db8:cafe::17"],
      ['for="[2001:db8:cafe::17]"', "2001:db8:cafe::17"],
      ['for="[2001:db8:cafe::17]:_port"', "2001:db8:cafe::17"],
      ["proto=https; for=192.0.2.60", "192.0.2.60"],
      ["for=6.6.6.6, for=192.0.2.60", "192.0.2.60"],
      ["for=192.0.2.60, for=10.0.0.5;by=10.0.0.6", "192.0.2.60"],
      ['for="\\192.0.2.60"', "192.0.2.60"],
    ];
    for (const [forwarded, expected] of cases) {
      assert.equal(
        addressOf("127.0.0.1", { Forwarded: forwarded }),
        expected,
        forwarded,
      );
    }
  });

  await t.step(
    "an unknown or obfuscated hop stops at the trusted proxy that hid it",
    () => {
      assert.equal(
        addressOf("127.0.0.1", { Forwarded: "for=unknown" }),
        "127.0.0.1",
      );
      assert.equal(
        addressOf("127.0.0.1", {
          Forwarded: "for=203.0.113.7, for=_hidden, for=10.0.0.5",
        }),
        "10.0.0.5",
      );
      assert.equal(
        addressOf("127.0.0.1", { "X-Forwarded-For": "6.6.6.6, unknown" }),
        "127.0.0.1",
      );
    },
  );

  await t.step(
    "a malformed hop on the walk leaves the peer as the client",
    () => {
      const garbage = [
        { "X-Forwarded-For": "not-an-address" },
        { "X-Forwarded-For": "203.0.113.7, 999.1.1.1" },
        { "X-Forwarded-For": "127.1" },
        { "X-Forwarded-For": "203.0.113.7:http" },
        { "X-Forwarded-For": "<script>" },
        { Forwarded: "for=" },
        { Forwarded: "for" },
        { Forwarded: "proto=https" },
        { Forwarded: 'for="192.0.2.60' },
        { Forwarded: "for=192.0.2.60;for=192.0.2.61" },
        { Forwarded: "for=2001:db8::1:80x" },
        { Forwarded: 'for="[2001:db8::1]:99999999"' },
        { "X-Forwarded-For": "::ffff:0203.0.113.7" },
        { "X-Forwarded-For": "[fe80::1%eth0]:80" },
        // A quote the client left open swallows what the proxy appended.
        { Forwarded: 'for="6.6.6.6, for=203.0.113.7' },
      ];
      for (const headers of garbage) {
        assert.equal(
          addressOf("10.0.0.1", headers),
          "10.0.0.1",
          JSON.stringify(headers),
        );
      }
    },
  );

  await t.step(
    "garbage beyond the client, written by the client, is never read",
    () => {
      assert.equal(
        addressOf("127.0.0.1", {
          "X-Forwarded-For": "garbage, <script>, 203.0.113.7",
        }),
        "203.0.113.7",
      );
      assert.equal(
        addressOf("127.0.0.1", {
          Forwarded: "for, for=203.0.113.7",
        }),
        "203.0.113.7",
      );
    },
  );

  await t.step("trusted IPv4 ranges match by prefix", () => {
    const trusted = "10.0.0.0/8, 192.168.4.0/22";
    for (const proxy of ["10.0.0.1", "10.255.255.254", "192.168.7.9"]) {
      assert.equal(
        addressOf(proxy, { "X-Forwarded-For": "203.0.113.7" }, trusted),
        "203.0.113.7",
        proxy,
      );
    }
    for (const outsider of ["11.0.0.1", "192.168.8.1", "127.0.0.1"]) {
      assert.equal(
        addressOf(outsider, { "X-Forwarded-For": "203.0.113.7" }, trusted),
        outsider,
        outsider,
      );
    }
  });

  await t.step("trusted IPv6 ranges match by prefix", () => {
    const trusted = "2001:db8:aa::/48, ::1";
    for (const proxy of ["2001:db8:aa::1", "2001:db8:aa:ffff::2", "::1"]) {
      assert.equal(
        addressOf(proxy, { "X-Forwarded-For": "2001:db8:bb::7" }, trusted),
        "2001:db8:bb::7",
        proxy,
      );
    }
    for (const outsider of ["2001:db8:ab::1", "::2"]) {
      assert.equal(
        addressOf(outsider, { "X-Forwarded-For": "203.0.113.7" }, trusted),
        outsider,
        outsider,
      );
    }
  });

  await t.step("IPv4 and IPv6 ranges never match the other family", () => {
    assert.equal(
      addressOf("::1", { "X-Forwarded-For": "203.0.113.7" }, "0.0.0.0/0"),
      "::1",
    );
    assert.equal(
      addressOf("10.0.0.1", { "X-Forwarded-For": "203.0.113.7" }, "::/0"),
      "10.0.0.1",
    );
  });

  await t.step("IPv4-mapped addresses count as their IPv4 address", () => {
    // A dual-stack listener reports IPv4 peers in the mapped form.
    assert.equal(
      addressOf("::ffff:127.0.0.1", { "X-Forwarded-For": "203.0.113.7" }),
      "203.0.113.7",
    );
    assert.equal(
      addressOf("::ffff:198.51.100.20", { "X-Forwarded-For": "10.1.1.1" }),
      "198.51.100.20",
    );
    assert.equal(
      addressOf("127.0.0.1", { "X-Forwarded-For": "::ffff:203.0.113.7" }),
      "203.0.113.7",
    );
    assert.equal(
      addressOf("::ffff:7f00:1", { "X-Forwarded-For": "::FFFF:CB00:7107" }),
      "203.0.113.7",
    );
    // A mapped hop inside a trusted range is walked past like any other.
    assert.equal(
      addressOf("127.0.0.1", {
        "X-Forwarded-For": "203.0.113.7, ::ffff:10.0.0.5",
      }),
      "203.0.113.7",
    );
  });

  await t.step("addresses come back in one spelling per client", () => {
    assert.equal(addressOf("2001:DB8:0::1", {}), "2001:db8::1");
    assert.equal(addressOf("[::1]", {}), "::1");
    assert.equal(addressOf("fe80::1%eth0", {}, ""), "fe80::1%eth0");
    assert.equal(
      addressOf("unknown", { "X-Forwarded-For": "1.2.3.4" }),
      "unknown",
    );
  });
});

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
