/**
 * The fenced examples of the documentation (README.md and docs/*.md), as
 * tests/doc_examples_test.ts runs them: each block with its page, line,
 * language and the marker written on the last non-blank line before its
 * fence, if any:
 *
 * - `<!-- doc-test: skip (reason) -->`: not run here (the reason says why
 *   and what shows it instead);
 * - `<!-- doc-test: check-only (reason) -->`: a `ts` block that is
 *   type-checked, or a `python` block that is compiled, but not run (a
 *   server that would run until stopped, say).
 *
 * @module
 */

/** What a marker asks of the runner. */
export type DocMarker =
  | { readonly kind: "skip"; readonly reason: string }
  | { readonly kind: "check-only"; readonly reason: string };

/** One fenced block of a page. */
export interface DocBlock {
  /** The page, relative to the repository: `README.md`, `docs/x.md`. */
  readonly page: string;
  /** The line of the opening fence, from 1. */
  readonly line: number;
  /** The fence's info string's first word, lower case; "" when none. */
  readonly lang: string;
  /** The block's text, its indentation (a block in a list) removed. */
  readonly text: string;
  readonly marker?: DocMarker;
}

/** Where the block is, as `page:line` (clickable in most terminals). */
export function where(block: DocBlock): string {
  return `${block.page}:${block.line}`;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/;
const MARKER = /^\s*<!--\s*doc-test:\s*(.*?)\s*-->\s*$/;
const MARKER_BODY = /^(skip|check-only)\s+\((.+)\)$/;

/** A marker comment the runner does not understand. */
export class DocMarkerError extends Error {
  override name = "DocMarkerError";
}

function parseMarker(page: string, line: number, body: string): DocMarker {
  const match = MARKER_BODY.exec(body);
  const kind = match?.[1];
  const reason = match?.[2]?.trim();
  if ((kind === "skip" || kind === "check-only") && reason) {
    return { kind, reason };
  }
  throw new DocMarkerError(
    `${page}:${line}: doc-test marker "${body}" is not ` +
      `"skip (reason)" or "check-only (reason)"`,
  );
}

/** The fenced blocks of one page's Markdown `source`, in order. */
export function blocksOf(page: string, source: string): DocBlock[] {
  const lines = source.split("\n");
  const blocks: DocBlock[] = [];
  let lastText: { line: number; text: string } | undefined;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    const open = FENCE.exec(line);
    if (!open) {
      if (line.trim() !== "") lastText = { line: index + 1, text: line };
      continue;
    }
    const indent = open[1]?.length ?? 0;
    const fence = open[2] ?? "```";
    const body: string[] = [];
    let end = index + 1;
    for (; end < lines.length; end++) {
      const inner = lines[end] ?? "";
      if (inner.trim() === fence) break;
      body.push(
        inner.slice(Math.min(indent, /^\s*/.exec(inner)?.[0].length ?? 0)),
      );
    }
    const markerText = lastText && MARKER.exec(lastText.text)?.[1];
    blocks.push({
      page,
      line: index + 1,
      lang: (open[3] ?? "").toLowerCase(),
      text: body.join("\n") + "\n",
      ...(markerText && lastText
        ? { marker: parseMarker(page, lastText.line, markerText) }
        : {}),
    });
    index = end;
    lastText = undefined;
  }
  for (const [index, line] of lines.entries()) {
    const marker = MARKER.exec(line)?.[1];
    if (marker === undefined) continue;
    parseMarker(page, index + 1, marker);
    const next = lines.slice(index + 1).find((text) => text.trim() !== "");
    if (!next || !FENCE.test(next)) {
      throw new DocMarkerError(
        `${page}:${
          index + 1
        }: a doc-test marker must come right before a fence`,
      );
    }
  }
  return blocks;
}

/** The pages the runner reads: README.md and every docs/*.md, by name. */
export async function docPages(root: URL): Promise<string[]> {
  const pages = ["README.md"];
  for await (const entry of Deno.readDir(new URL("docs/", root))) {
    if (entry.isFile && entry.name.endsWith(".md")) {
      pages.push(`docs/${entry.name}`);
    }
  }
  return pages.sort();
}

/** Every fenced block of every page under `root`. */
export async function docBlocks(root: URL): Promise<DocBlock[]> {
  const blocks: DocBlock[] = [];
  for (const page of await docPages(root)) {
    blocks.push(
      ...blocksOf(page, await Deno.readTextFile(new URL(page, root))),
    );
  }
  return blocks;
}
