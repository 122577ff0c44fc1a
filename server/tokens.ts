/**
 * Signed identities: the JSON Web Tokens a host site mints for its users,
 * checked with npm:jose. A token says who the user is (`sub`), the name to
 * show (`name`), until when (`exp`, required) and, optionally, which rooms
 * it may join (`rooms`), and whether it moderates (`role`: `moderator` or
 * `admin` for every room, `moderates`: a list of rooms). Only the configured algorithms are accepted: HS256
 * with a shared secret, or the algorithm of a public key (RS256, ES256,
 * EdDSA) from a PEM or JWKS file; `alg: none` and algorithm confusion are
 * refused by construction. Nothing here logs or returns the token. It is
 * loaded only when sign-in is on (see chat/identity.ts for the types).
 *
 * @module
 */

import { createPublicKey } from "node:crypto";
import {
  createLocalJWKSet,
  type CryptoKey,
  errors,
  importSPKI,
  jwtVerify,
  type JWTVerifyGetKey,
} from "jose";
import {
  MIN_SECRET_BYTES,
  TokenKeyError,
  type TokenKeyOptions,
  type TokenVerifier,
} from "../chat/identity.ts";
import { parseRoomName, type RoomName } from "../chat/room_name.ts";
import { parseUserName } from "../chat/user_name.ts";

/** The JWS algorithm of a PEM public key, from its key type and curve. */
function algorithmOf(pem: string): string {
  let key;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new TokenKeyError(
      `the public key is not a PEM public key (${
        error instanceof Error ? error.message : String(error)
      })`,
    );
  }
  const type = key.asymmetricKeyType;
  if (type === "rsa") return "RS256";
  if (type === "ed25519") return "EdDSA";
  if (type === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") {
    return "ES256";
  }
  throw new TokenKeyError(
    `the public key is ${type ?? "of an unknown type"}${
      type === "ec" ? ` on ${key.asymmetricKeyDetails?.namedCurve}` : ""
    }; use RSA (RS256), P-256 (ES256) or Ed25519 (EdDSA)`,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Builds a verifier for `options`: exactly one of `secret` and `publicKey`.
 * Throws {@linkcode TokenKeyError} for a key that cannot be used.
 */
export async function createTokenVerifier(
  options: TokenKeyOptions,
): Promise<TokenVerifier> {
  let key: Uint8Array | CryptoKey | JWTVerifyGetKey;
  let algorithms: string[];
  if (options.secret !== undefined) {
    const secret = new TextEncoder().encode(options.secret);
    if (secret.byteLength < MIN_SECRET_BYTES) {
      throw new TokenKeyError(
        `CHAT_AUTH_SECRET is ${secret.byteLength} bytes; HS256 needs at least ${MIN_SECRET_BYTES}`,
      );
    }
    key = secret;
    algorithms = ["HS256"];
  } else if (options.publicKey !== undefined) {
    const text = options.publicKey.trim();
    if (text.startsWith("{")) {
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch (error) {
        throw new TokenKeyError(
          `the JWKS file is not JSON (${
            error instanceof Error ? error.message : String(error)
          })`,
        );
      }
      if (!isRecord(document) || !Array.isArray(document.keys)) {
        throw new TokenKeyError("the JWKS file has no `keys` list");
      }
      key = createLocalJWKSet({ keys: document.keys });
      algorithms = ["RS256", "ES256", "EdDSA"];
    } else {
      const algorithm = algorithmOf(text);
      key = await importSPKI(text, algorithm);
      algorithms = [algorithm];
    }
  } else {
    throw new TokenKeyError(
      "signed identities need CHAT_AUTH_SECRET or CHAT_AUTH_PUBLIC_KEY",
    );
  }

  return {
    async verify(token) {
      let payload;
      try {
        const verified = typeof key === "function"
          ? await jwtVerify(token, key, {
            algorithms,
            requiredClaims: ["exp", "sub"],
            ...(options.issuer ? { issuer: options.issuer } : {}),
            ...(options.audience ? { audience: options.audience } : {}),
          })
          : await jwtVerify(token, key, {
            algorithms,
            requiredClaims: ["exp", "sub"],
            ...(options.issuer ? { issuer: options.issuer } : {}),
            ...(options.audience ? { audience: options.audience } : {}),
          });
        payload = verified.payload;
      } catch (error) {
        if (error instanceof errors.JOSEError) {
          return { ok: false, reason: describe(error) };
        }
        throw error;
      }
      const { sub, exp } = payload;
      if (typeof sub !== "string" || sub === "" || typeof exp !== "number") {
        return { ok: false, reason: "the token has no sub or exp" };
      }
      const rawName = payload.name === undefined ? sub : payload.name;
      if (typeof rawName !== "string") {
        return { ok: false, reason: "the token's name is not text" };
      }
      const name = parseUserName(rawName, []);
      if (!name.ok) {
        return { ok: false, reason: `the token's name: ${name.error}` };
      }
      const rooms = roomSet(payload.rooms, "rooms");
      if (typeof rooms === "string") return { ok: false, reason: rooms };
      const moderates = roomSet(payload.moderates, "moderates");
      if (typeof moderates === "string") {
        return { ok: false, reason: moderates };
      }
      const { role } = payload;
      return {
        ok: true,
        identity: {
          sub,
          name: name.name,
          expiresAt: exp * 1000,
          ...(rooms ? { rooms } : {}),
          ...(moderates ? { moderates } : {}),
          ...(role === "moderator" || role === "admin" ? { role } : {}),
        },
      };
    },
  };
}

/**
 * A claim that lists rooms (`rooms`, `moderates`): its set, undefined when
 * absent, or why the token is refused.
 */
function roomSet(
  claim: unknown,
  label: string,
): Set<RoomName> | undefined | string {
  if (claim === undefined) return undefined;
  if (!Array.isArray(claim)) return `the token's ${label} is not a list`;
  const rooms = new Set<RoomName>();
  for (const item of claim) {
    const room = typeof item === "string" ? parseRoomName(item) : null;
    if (!room?.ok) return `the token's ${label} lists an invalid room`;
    rooms.add(room.name);
  }
  return rooms;
}

/** jose's error as a short reason for people and logs (never the token). */
function describe(error: InstanceType<typeof errors.JOSEError>): string {
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    return `the token's ${error.claim} claim is not accepted`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return "the token's algorithm is not accepted";
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return "the token's signature does not verify";
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return "no configured key matches the token";
  }
  return "the token is malformed";
}
