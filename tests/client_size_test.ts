/**
 * The client library's browser bundle stays small: `deno bundle --minify`
 * of client/chat_client.js (every module it imports inlined), gzipped, is
 * under the 10 KB budget. It prints the sizes that docs/client.md reports.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ROOT } from "../testkit/cli.ts";
import { run } from "../testkit/npm_package.ts";

/** The budget of docs/client.md: 10 KB, gzipped. */
const BUDGET_BYTES = 10 * 1024;

/** The size of `bytes` after gzip, by the platform's CompressionStream. */
async function gzipped(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return (await new Response(stream).arrayBuffer()).byteLength;
}

Deno.test("the client's browser bundle is under 10 KB gzipped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-client-size-" });
  try {
    const bundle = `${dir}/chat_client.min.js`;
    await run([
      Deno.execPath(),
      "bundle",
      "--minify",
      "--platform",
      "browser",
      "--output",
      bundle,
      "client/chat_client.js",
    ], ROOT);
    const minified = await Deno.readFile(bundle);
    // Every module of the library, unminified, as /client/ serves them.
    const parts: Uint8Array<ArrayBuffer>[] = [];
    for await (const entry of Deno.readDir(new URL("client/", ROOT))) {
      if (!entry.name.endsWith(".js")) continue;
      parts.push(await Deno.readFile(new URL(`client/${entry.name}`, ROOT)));
    }
    const source = new Uint8Array(await new Blob(parts).arrayBuffer());
    const sizes = {
      source: source.byteLength,
      sourceGzipped: await gzipped(source),
      minified: minified.byteLength,
      minifiedGzipped: await gzipped(minified),
    };
    console.log(
      `client bundle: ${sizes.minified} bytes minified, ` +
        `${sizes.minifiedGzipped} bytes minified and gzipped ` +
        `(the ${parts.length} modules unminified: ${sizes.source} bytes, ` +
        `${sizes.sourceGzipped} gzipped)`,
    );
    const text = new TextDecoder().decode(minified);
    assert.match(text, /chat\.v1/, "the bundle is the client");
    assert.match(text, /4010/, "with the close codes inlined");
    assert.doesNotMatch(text, /^import /m, "and nothing left to load");
    assert.ok(
      sizes.minifiedGzipped < BUDGET_BYTES,
      `${sizes.minifiedGzipped} bytes gzipped, over ${BUDGET_BYTES}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
