import assert from "node:assert/strict";
import {
  CloseCode as declared,
  type KnownNameRefusal,
  type ProtocolErrorCode,
} from "../client/chat_client.js";
import { CloseCode as table } from "../client/protocol.js";
import type { FrameErrorCode } from "../chat/frames.ts";
import type { UserNameProblem } from "../chat/user_name.ts";

/** `true` only when `A` and `B` are the same type. */
type Same<A, B> = [A] extends [B] ? [B] extends [A] ? true : false : false;

// The library's declared types repeat the table's names and codes for
// TypeScript users without a JavaScript checker; `deno task check` fails
// here the moment they differ.
const declaredIsTheTable: Same<typeof declared, typeof table> = true;
// So do its error codes and name-refusal reasons, the server's.
const errorCodesAreTheServers: Same<ProtocolErrorCode, FrameErrorCode> = true;
const reasonsAreTheServers: Same<KnownNameRefusal, UserNameProblem> = true;

Deno.test("the library's declared close codes, error codes and name reasons are the server's", () => {
  assert.equal(declaredIsTheTable, true);
  assert.equal(errorCodesAreTheServers, true);
  assert.equal(reasonsAreTheServers, true);
  assert.deepEqual({ ...declared }, { ...table });
});
