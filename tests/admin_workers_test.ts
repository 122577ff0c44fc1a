import assert from "node:assert/strict";
import { SIGN_IN_FAILURES } from "../http/admin_sign_in_limit.ts";
import { ADMIN_TEST_KEY } from "../testkit/admin.ts";
import {
  type LogRecord,
  waitForLogs,
  withWorkers,
  workerOf,
} from "../testkit/workers.ts";

/** The most rounds tried before one crosses workers. */
const MAX_TRIES = 60;

/**
 * POSTs `form` on a new TCP connection, so the kernel picks a worker afresh,
 * from `from` (a loopback address).
 */
async function postFresh(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string>,
  from = "127.0.0.1",
): Promise<Response> {
  const client = Deno.createHttpClient({
    poolMaxIdlePerHost: 0,
    localAddress: from,
  });
  try {
    const response = await fetch(url, {
      client,
      method: "POST",
      headers,
      body: new URLSearchParams(form),
      redirect: "manual",
    });
    await response.body?.cancel();
    return response;
  } finally {
    client.close();
  }
}

Deno.test("under --workers 2 a console session opened on one worker holds on the other", async () => {
  await withWorkers("chat-admin-workers-", {
    CHAT_API_KEY: ADMIN_TEST_KEY,
  }, async (server) => {
    const origin = { Origin: server.origin };
    const isIn = (record: LogRecord) => record.event === "admin.signed_in";
    const isOut = (record: LogRecord) => record.event === "admin.signed_out";
    // Each round signs in on one connection and out on another, each on
    // whichever worker the kernel picks; the sign-out is logged only when
    // its worker accepts the cookie. Until a round crossed workers.
    for (let round = 1;; round++) {
      assert.ok(
        round <= MAX_TRIES,
        "a round crossed from one worker to the other",
      );
      const signedIn = await postFresh(
        `${server.origin}/admin/session`,
        { key: ADMIN_TEST_KEY },
        origin,
      );
      assert.equal(signedIn.status, 303);
      const cookie = signedIn.headers.get("set-cookie")?.split(";")[0] ?? "";
      const signedOut = await postFresh(
        `${server.origin}/admin/signout`,
        {},
        { ...origin, Cookie: cookie },
      );
      assert.equal(signedOut.status, 303);
      const ins = await waitForLogs(server, isIn, round, "admin.signed_in");
      const outs = await waitForLogs(server, isOut, round, "admin.signed_out");
      if (workerOf(ins[round - 1]) !== workerOf(outs[round - 1])) break;
    }
  });
});

Deno.test("under --workers 2 an address gets one budget of failed sign-ins, whichever worker answers", async () => {
  await withWorkers("chat-admin-limit-", {
    CHAT_API_KEY: ADMIN_TEST_KEY,
  }, async (server) => {
    const origin = { Origin: server.origin };
    const url = `${server.origin}/admin/session`;
    // Each round fails from an address of its own until refused; a round
    // counts once its failures reached both workers.
    for (let round = 1;; round++) {
      assert.ok(round <= 10, "a round's failures reached both workers");
      const from = `127.0.0.${40 + round}`;
      let failures = 0;
      for (;;) {
        assert.ok(
          failures <= 2 * SIGN_IN_FAILURES,
          `${from} was never refused`,
        );
        const answer = await postFresh(url, { key: "wrong" }, origin, from);
        if (answer.status === 429) break;
        assert.equal(answer.status, 401);
        failures++;
      }
      const refusedHere = (record: LogRecord) =>
        record.event === "admin.sign_in_refused" && record.ip === from;
      const refusals = await waitForLogs(
        server,
        refusedHere,
        failures,
        "admin.sign_in_refused",
      );
      if (new Set(refusals.map(workerOf)).size < 2) continue;
      assert.equal(failures, SIGN_IN_FAILURES);
      // Locked out on both workers, the right key too.
      for (let i = 0; i < 6; i++) {
        const answer = await postFresh(
          url,
          { key: ADMIN_TEST_KEY },
          origin,
          from,
        );
        assert.equal(answer.status, 429);
      }
      break;
    }
  });
});
