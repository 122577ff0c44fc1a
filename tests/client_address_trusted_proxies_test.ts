import assert from "node:assert/strict";
import { parseTrustedProxies, trustedProxies } from "../chat/address_range.ts";

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
