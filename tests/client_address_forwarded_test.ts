import assert from "node:assert/strict";
import { clientAddress } from "../http/client_address.ts";
import { addressOf, trusting } from "../testkit/client_address.ts";

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
