/**
 * Accessibility audits with axe-core inside a Chromium page. The pages
 * forbid inline and foreign scripts (Content-Security-Policy), so axe is
 * not added as a `<script>`: its source is evaluated through the DevTools
 * protocol, which the policy does not govern, and the page itself stays
 * under its real policy.
 *
 * @module
 */

import assert from "node:assert/strict";
import axe from "axe-core";
import type { Page } from "playwright-core";

/** One element that breaks a rule, as axe names it. */
export interface AxeNode {
  /** CSS selectors leading to the element. */
  readonly target: readonly string[];
  /** What axe says is wrong with it. */
  readonly summary: string;
}

/** One axe rule that the page breaks, with the elements that break it. */
export interface AxeViolation {
  readonly id: string;
  readonly impact: string;
  readonly help: string;
  readonly nodes: readonly AxeNode[];
}

// Runs in the page: every rule axe enables by default (WCAG 2.x A and AA
// plus best practices), reduced to what a failure report needs.
const RUN_AXE = `(async () => {
  await document.fonts.ready;
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: String(violation.impact),
    help: violation.help,
    nodes: violation.nodes.map((node) => ({
      target: node.target.map(String),
      summary: node.failureSummary ?? "",
    })),
  }));
})()`;

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) &&
    value.every((item) => typeof item === "string");
}

function isAxeNode(value: unknown): value is AxeNode {
  return typeof value === "object" && value !== null &&
    "target" in value && isStringArray(value.target) &&
    "summary" in value && typeof value.summary === "string";
}

function isAxeViolation(value: unknown): value is AxeViolation {
  return typeof value === "object" && value !== null &&
    "id" in value && typeof value.id === "string" &&
    "impact" in value && typeof value.impact === "string" &&
    "help" in value && typeof value.help === "string" &&
    "nodes" in value && Array.isArray(value.nodes) &&
    value.nodes.every(isAxeNode);
}

/**
 * Runs axe on what `page` shows now and returns the rules it breaks (none
 * for an accessible page). Loads axe into the page first if needed.
 */
export async function auditAccessibility(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate("typeof window.axe === 'object'");
  if (loaded !== true) await page.evaluate(axe.source);
  const found: unknown = await page.evaluate(RUN_AXE);
  if (!Array.isArray(found) || !found.every(isAxeViolation)) {
    throw new Error(`axe answered something unexpected: ${String(found)}`);
  }
  return found;
}

/** Violations as readable lines, for a failing assertion's message. */
export function describeViolations(
  violations: readonly AxeViolation[],
): string {
  return violations.map((violation) =>
    [
      `${violation.id} (${violation.impact}): ${violation.help}`,
      ...violation.nodes.map((node) =>
        `  ${node.target.join(" ")}\n    ${
          node.summary.replaceAll("\n", "\n    ")
        }`
      ),
    ].join("\n")
  ).join("\n");
}

/**
 * Audits `page` in light and in dark (it leaves the page dark); fails
 * listing every violation of both.
 */
export async function assertAccessible(
  page: Page,
  what: string,
): Promise<void> {
  const reports: string[] = [];
  for (const colorScheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme });
    const violations = await auditAccessibility(page);
    if (violations.length > 0) {
      reports.push(
        `axe on ${what}, ${colorScheme}: ${violations.length} rules broken\n${
          describeViolations(violations)
        }`,
      );
    }
  }
  if (reports.length > 0) assert.fail(reports.join("\n"));
}
