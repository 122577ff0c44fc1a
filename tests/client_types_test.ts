import assert from "node:assert/strict";
import { CloseCode as declared } from "../client/chat_client.js";
import { CloseCode as table } from "../client/protocol.js";

/** `true` only when `A` and `B` are the same type. */
type Same<A, B> = [A] extends [B] ? [B] extends [A] ? true : false : false;

// The library's declared types repeat the table's names and codes for
// TypeScript users without a JavaScript checker; `deno task check` fails
// here the moment they differ.
const declaredIsTheTable: Same<typeof declared, typeof table> = true;

Deno.test("the library's declared close codes are the table's", () => {
  assert.equal(declaredIsTheTable, true);
  assert.deepEqual({ ...declared }, { ...table });
});
