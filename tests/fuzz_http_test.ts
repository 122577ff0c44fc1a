/**
 * Property-based fuzzing (fast-check) of a running server's HTTP side:
 * random bytes on the raw port and random paths, queries and upgrades.
 * Every request gets an answer below 500 (or a closed connection for
 * bytes that are no request), and afterwards the server is still well
 * (see testkit/fuzz.ts).
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { FUZZ_ENV, portOf, stillWell, storeAnchor } from "../testkit/fuzz.ts";
import { rawStatus } from "../testkit/raw_socket.ts";
import {
  recordingLogger,
  startServer,
  UPGRADE_HEADERS,
} from "../testkit/server.ts";

const encoder = new TextEncoder();

/** Path segments: valid rooms, percent-encoded anything, broken escapes. */
const pathSegment = fc.oneof(
  fc.constantFrom("lobby", "잡담", "caf%C3%A9", "room_1"),
  fc.stringMatching(/^[a-z0-9_.\-]{1,12}$/),
  fc.webSegment(),
  fc.string({ unit: "binary", maxLength: 120 }).map(encodeURIComponent),
  fc.stringMatching(/^[%0-9a-fA-Fg.\/]{0,40}$/),
  fc.string({ unit: "grapheme-ascii", maxLength: 60 })
    .map((text) => text.replace(/[\s#?]/g, "")),
  fc.constantFrom("", "..", ".", "%2e%2e", "%00", "a".repeat(101)),
);

/** Every route, with `*` where a random segment goes, and some non-routes. */
const pathTemplate = fc.constantFrom(
  "/chat/*/",
  "/chat/*",
  "/ws/chat/*/",
  "/ws/chat/*",
  "/api/rooms/*/messages",
  "/api/rooms",
  "/static/*",
  "/*",
  "/*/*/*",
);

/** Query strings with the parameters the routes read, and random ones. */
const query = fc.oneof(
  fc.constant(""),
  fc.webQueryParameters().map((q) => `?${q}`),
  fc.record({
    key: fc.constantFrom("name", "since", "before", "limit"),
    value: fc.oneof(
      fc.string({ unit: "binary", maxLength: 50 }).map(encodeURIComponent),
      fc.stringMatching(/^[%0-9a-fA-F-.e+]{0,30}$/),
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
    ),
  }).map(({ key, value }) => `?${key}=${value}`),
);

const UPGRADE_LINES = Object.entries(UPGRADE_HEADERS).map(([name, value]) =>
  `${name}: ${value}`
);

Deno.test("fuzzing a running server's HTTP side", async (t) => {
  const log = recordingLogger();
  await using server = await startServer(FUZZ_ENV, { log });
  const anchor = await storeAnchor(server, 10);

  await t.step(
    "random bytes on the port get a 4xx or a closed connection",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.uint8Array({ minLength: 1, maxLength: 1024 }),
            // A request line, then garbage where the headers should be.
            fc.uint8Array({ maxLength: 512 }).map((garbage) =>
              new Uint8Array([
                ...encoder.encode("GET /chat/ HTTP/1.1\r\n"),
                ...garbage,
                ...encoder.encode("\r\n\r\n"),
              ])
            ),
          ),
          async (bytes) => {
            const status = await rawStatus(portOf(server), bytes);
            assert.ok(
              status === undefined || (status >= 200 && status < 500),
              `status ${status}`,
            );
          },
        ),
        { numRuns: 150 },
      );
    },
  );

  await t.step(
    "random paths, queries and upgrades answer below 500",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          pathTemplate,
          fc.array(pathSegment, { minLength: 3, maxLength: 3 }),
          query,
          fc.boolean(),
          async (template, segments, search, upgrade) => {
            let next = 0;
            const path = template.replace(/\*/g, () => segments[next++] ?? "");
            const target = `${path}${search}`;
            const request = [
              `GET ${target} HTTP/1.1`,
              `Host: 127.0.0.1:${portOf(server)}`,
              ...(upgrade ? UPGRADE_LINES : ["Connection: close"]),
              "",
              "",
            ].join("\r\n");
            const status = await rawStatus(
              portOf(server),
              encoder.encode(request),
            );
            assert.ok(status !== undefined, `no answer to ${target}`);
            assert.ok(status < 500, `${status} for ${target}`);
          },
        ),
        { numRuns: 600 },
      );
    },
  );

  await stillWell(t, server, log, anchor);
});
