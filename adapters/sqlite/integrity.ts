/**
 * The integrity check of the SQLite file at open: `PRAGMA quick_check`,
 * which reads every page of the file (about 2.5 ms per MiB on a warm cache)
 * and reports the first damaged one. `node:sqlite` has no progress
 * handler, so the check cannot be stopped after a time: it is bounded by
 * size instead, and a file larger than {@linkcode INTEGRITY_CHECK_MAX_BYTES}
 * is not checked at open (damage met later while serving is still
 * reported; see sqlite_database.ts).
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { isDamageError } from "./open.ts";

/**
 * Files up to this size are checked at open: about 0.6 s on a warm cache,
 * a few seconds from a slow disk.
 */
export const INTEGRITY_CHECK_MAX_BYTES = 256 * 1024 * 1024;

/** What the check found. */
export type Integrity =
  | { readonly kind: "ok" }
  /** The first problem SQLite found, in its words. */
  | { readonly kind: "damaged"; readonly problem: string }
  /** Larger than the bound: not checked. */
  | { readonly kind: "unchecked"; readonly bytes: number };

function pragmaNumber(db: DatabaseSync, name: string): number {
  const value = db.prepare(`PRAGMA ${name}`).get()?.[name];
  return typeof value === "number" ? value : 0;
}

/** Checks the file open in `db`, when it is at most `maxBytes`. */
export function checkIntegrity(
  db: DatabaseSync,
  maxBytes = INTEGRITY_CHECK_MAX_BYTES,
): Integrity {
  const bytes = pragmaNumber(db, "page_count") * pragmaNumber(db, "page_size");
  if (bytes > maxBytes) return { kind: "unchecked", bytes };
  let found: string[];
  try {
    // (1): stop at the first problem; one is enough to know.
    found = db.prepare("PRAGMA quick_check(1)").all().map((row) =>
      String(row.quick_check)
    );
  } catch (error) {
    // Damage that stops the check itself is an answer too.
    if (isDamageError(error)) {
      return { kind: "damaged", problem: error.message };
    }
    throw error;
  }
  const problem = found.join("; ").replace(/\s+/g, " ")
    .replace(/^\*\*\* in database \w+ \*\*\* /, "").trim();
  return problem === "ok"
    ? { kind: "ok" }
    : { kind: "damaged", problem: problem.slice(0, 300) };
}
