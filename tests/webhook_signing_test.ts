import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import {
  isSigningSecret,
  Signer,
  SigningSecretError,
} from "../adapters/webhooks/signing.ts";

const CURRENT = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PREVIOUS = "whsec_c2VjcmV0LXRoYXQtaXMtYmVpbmctcm90YXRlZA==";

Deno.test("signer", async (t) => {
  await t.step("signs so that the standardwebhooks package verifies", () => {
    const body = JSON.stringify({ type: "message.created" });
    const headers = new Signer([CURRENT]).headers("evt_1", new Date(), body);
    assert.deepEqual(new Webhook(CURRENT).verify(body, { ...headers }), {
      type: "message.created",
    });
  });

  await t.step("a tampered body fails verification", () => {
    const headers = new Signer([CURRENT]).headers("evt_1", new Date(), "{}");
    assert.throws(() => new Webhook(CURRENT).verify('{"a":1}', { ...headers }));
  });

  await t.step(
    "with two secrets, a receiver that knows either verifies",
    () => {
      const body = "{}";
      const headers = new Signer([CURRENT, PREVIOUS]).headers(
        "evt_2",
        new Date(),
        body,
      );
      assert.equal(headers["webhook-signature"].split(" ").length, 2);
      new Webhook(CURRENT).verify(body, { ...headers });
      new Webhook(PREVIOUS).verify(body, { ...headers });
    },
  );

  await t.step("refuses a secret that is not whsec_ and base64", () => {
    assert.equal(isSigningSecret("whsec_not base64!"), false);
    assert.equal(isSigningSecret("plain-secret"), false);
    assert.equal(isSigningSecret(CURRENT), true);
    assert.throws(() => new Signer(["plain"]), SigningSecretError);
    assert.throws(() => new Signer([]), SigningSecretError);
    assert.throws(
      () => new Signer([CURRENT, PREVIOUS, CURRENT]),
      SigningSecretError,
    );
  });
});
