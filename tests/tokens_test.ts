import assert from "node:assert/strict";
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWTPayload,
  SignJWT,
} from "jose";
import { TokenKeyError, type TokenVerifier } from "../chat/identity.ts";
import { createTokenVerifier } from "../server/tokens.ts";
import { mayModerate } from "../chat/moderation.ts";
import { room as roomName } from "../testkit/sqlite_store.ts";

const SECRET = "a-shared-secret-of-at-least-32-bytes!";
const hmacKey = new TextEncoder().encode(SECRET);
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

function hs256(claims: JWTPayload, key: Uint8Array = hmacKey) {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(key);
}

/** A token with `alg: none`: a header and a payload, no signature. */
function unsigned(claims: JWTPayload): string {
  const part = (value: unknown) =>
    btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-")
      .replace(/\//g, "_");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

async function refusal(verifier: TokenVerifier, token: string) {
  const check = await verifier.verify(token);
  assert.ok(!check.ok, "the token was accepted");
  return check.reason;
}

Deno.test("tokens", async (t) => {
  const hmac = await createTokenVerifier({ secret: SECRET });

  await t.step(
    "a valid HS256 token gives sub, name, rooms and exp",
    async () => {
      const exp = inAnHour();
      const check = await hmac.verify(
        await hs256({
          sub: "u-1",
          name: "Alice",
          rooms: ["lobby", "한국"],
          exp,
        }),
      );
      assert.ok(check.ok);
      assert.equal(check.identity.sub, "u-1");
      assert.equal(check.identity.name, "Alice");
      assert.deepEqual([...check.identity.rooms ?? []], ["lobby", "한국"]);
      assert.equal(check.identity.expiresAt, exp * 1000);
    },
  );

  await t.step("without a name claim the name is sub", async () => {
    const check = await hmac.verify(
      await hs256({ sub: "bob", exp: inAnHour() }),
    );
    assert.ok(check.ok);
    assert.equal(check.identity.name, "bob");
    assert.equal(check.identity.rooms, undefined);
  });

  await t.step(
    "role and moderates claims make a moderator; any other role is ignored",
    async () => {
      const roles = await Promise.all(
        ["moderator", "admin", "owner", 7].map(async (role) => {
          const check = await hmac.verify(
            await hs256({ sub: "m", exp: inAnHour(), role }),
          );
          assert.ok(check.ok);
          return check.identity.role;
        }),
      );
      assert.deepEqual(roles, ["moderator", "admin", undefined, undefined]);
      const check = await hmac.verify(
        await hs256({
          sub: "m",
          exp: inAnHour(),
          moderates: ["lobby", "카페"],
        }),
      );
      assert.ok(check.ok);
      assert.deepEqual([...check.identity.moderates ?? []], ["lobby", "카페"]);
      assert.ok(mayModerate(check.identity, roomName("lobby")));
      assert.ok(!mayModerate(check.identity, roomName("other")));
      assert.ok(!mayModerate(undefined, roomName("lobby")));
    },
  );

  await t.step("bad tokens are refused, each saying why", async () => {
    const other = new TextEncoder().encode(
      "another-secret-of-32-bytes-or-more!!",
    );
    const cases: [string, RegExp][] = [
      [await hs256({ sub: "x", exp: inAnHour() }, other), /signature/],
      [unsigned({ sub: "x", exp: inAnHour() }), /algorithm|malformed/],
      [await hs256({ sub: "x", exp: 1_000 }), /expired/],
      [await hs256({ sub: "x" }), /exp/],
      [await hs256({ exp: inAnHour() }), /sub/],
      [await hs256({ sub: "x", exp: inAnHour(), name: 7 }), /name/],
      [
        await hs256({ sub: "x", exp: inAnHour(), name: "\u202Eecila" }),
        /name/,
      ],
      [await hs256({ sub: "x", exp: inAnHour(), rooms: "lobby" }), /rooms/],
      [await hs256({ sub: "x", exp: inAnHour(), rooms: ["a b"] }), /room/],
      [
        await hs256({ sub: "x", exp: inAnHour(), moderates: "lobby" }),
        /moderates/,
      ],
      [
        await hs256({ sub: "x", exp: inAnHour(), moderates: ["a b"] }),
        /moderates lists an invalid room/,
      ],
      ["not.a.token", /malformed/],
      ["", /malformed/],
    ];
    for (const [token, says] of cases) {
      assert.match(await refusal(hmac, token), says, token.slice(0, 30));
    }
  });

  await t.step("issuer and audience are checked when configured", async () => {
    const strict = await createTokenVerifier({
      secret: SECRET,
      issuer: "https://site.example",
      audience: "chat",
    });
    const good = await hs256({
      sub: "x",
      exp: inAnHour(),
      iss: "https://site.example",
      aud: "chat",
    });
    assert.ok((await strict.verify(good)).ok);
    assert.match(
      await refusal(
        strict,
        await hs256({ sub: "x", exp: inAnHour(), iss: "evil", aud: "chat" }),
      ),
      /iss/,
    );
    assert.match(
      await refusal(
        strict,
        await hs256({
          sub: "x",
          exp: inAnHour(),
          iss: "https://site.example",
          aud: "other",
        }),
      ),
      /aud/,
    );
  });

  await t.step(
    "ES256 with a PEM public key; HS256 is then refused",
    async () => {
      const { publicKey, privateKey } = await generateKeyPair("ES256");
      const verifier = await createTokenVerifier({
        publicKey: await exportSPKI(publicKey),
      });
      const token = await new SignJWT({ sub: "e", exp: inAnHour() })
        .setProtectedHeader({ alg: "ES256" })
        .sign(privateKey);
      assert.ok((await verifier.verify(token)).ok);
      // Algorithm confusion: an HMAC over the public key's text.
      const confused = await hs256(
        { sub: "e", exp: inAnHour() },
        new TextEncoder().encode(await exportSPKI(publicKey)),
      );
      assert.match(await refusal(verifier, confused), /algorithm/);
    },
  );

  await t.step("RS256 and EdDSA from a JWKS document", async () => {
    const rsa = await generateKeyPair("RS256");
    const ed = await generateKeyPair("EdDSA");
    const jwks = {
      keys: [
        { ...await exportJWK(rsa.publicKey), kid: "r", alg: "RS256" },
        { ...await exportJWK(ed.publicKey), kid: "e", alg: "EdDSA" },
      ],
    };
    const verifier = await createTokenVerifier({
      publicKey: JSON.stringify(jwks),
    });
    for (
      const [alg, kid, key] of [
        ["RS256", "r", rsa.privateKey],
        ["EdDSA", "e", ed.privateKey],
      ] as const
    ) {
      const token = await new SignJWT({ sub: alg, exp: inAnHour() })
        .setProtectedHeader({ alg, kid })
        .sign(key);
      const check = await verifier.verify(token);
      assert.ok(check.ok, alg);
    }
  });

  await t.step("unusable keys are refused at start, saying why", async () => {
    await assert.rejects(
      createTokenVerifier({ secret: "short" }),
      (error: unknown) =>
        error instanceof TokenKeyError && /at least 32/.test(error.message) &&
        !error.message.includes("short"),
    );
    await assert.rejects(
      createTokenVerifier({ publicKey: "-----BEGIN NONSENSE-----" }),
      TokenKeyError,
    );
    await assert.rejects(
      createTokenVerifier({ publicKey: '{"no": "keys"}' }),
      /no `keys` list/,
    );
    await assert.rejects(createTokenVerifier({}), TokenKeyError);
  });
});
