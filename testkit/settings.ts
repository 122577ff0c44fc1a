/**
 * Helpers for the settings tests: environments to load a config from, one
 * CPU for settings that follow the machine, and the check that a config is
 * refused with a message that says why.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConfigError } from "../server/settings.ts";

/** An environment where no variable is set. */
export const noEnv = (): undefined => undefined;

/** An environment holding exactly `vars`. */
export const envOf =
  (vars: Record<string, string>) => (name: string): string | undefined =>
    vars[name];

/** A machine with one CPU, for settings that follow the CPU count. */
export const ONE_CPU = { cpus: 1 };

/** Asserts that `work` throws a ConfigError whose message matches every pattern. */
export function assertRefused(
  work: () => unknown,
  ...patterns: (RegExp | string)[]
) {
  assert.throws(work, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    for (const pattern of patterns) {
      if (typeof pattern === "string") {
        assert.ok(
          error.message.includes(pattern),
          `${JSON.stringify(error.message)} does not include ${
            JSON.stringify(pattern)
          }`,
        );
      } else {
        assert.match(error.message, pattern);
      }
    }
    return true;
  });
}

/** Signing secrets in the Standard Webhooks format. */
export const SECRET_A = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
export const SECRET_B = "whsec_c2VjcmV0LXRoYXQtaXMtYmVpbmctcm90YXRlZA==";
