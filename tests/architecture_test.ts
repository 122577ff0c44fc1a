/**
 * Keeps the import rule of docs/architecture.md true: reads the module
 * graph of every entry with `deno info --json` and fails on an import
 * against the documented direction or on a cycle between modules.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** The entry modules whose graphs make the server. */
const ENTRIES = ["main.ts", "serve.ts"];

/** Every module of the tools around it, each a possible entry. */
async function toolModules(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (folder: string) => {
    for await (const entry of Deno.readDir(new URL(folder, ROOT))) {
      const path = `${folder}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) found.push(path);
    }
  };
  for (const folder of ["bench", "testkit"]) await walk(folder);
  return found;
}

/** The folders of docs/architecture.md, and what each may import. */
export const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  "main.ts": ["server", "platform"],
  "serve.ts": ["server", "platform"],
  "server": [
    "routes",
    "http",
    "templates",
    "chat",
    "adapters/sqlite",
    "adapters/redis",
    "adapters/broadcast_channel",
    "adapters/webhooks",
    "observability",
    "platform",
    "deno.json",
  ],
  "routes": [
    "http",
    "templates",
    "static",
    "chat",
    "observability",
    "platform",
  ],
  "http": ["templates", "chat", "observability", "platform"],
  "templates": ["chat"],
  "observability": ["chat", "platform"],
  "adapters/sqlite": ["chat", "platform"],
  "adapters/redis": ["chat", "platform"],
  "adapters/broadcast_channel": ["chat", "platform"],
  "adapters/webhooks": ["chat", "platform"],
  "chat": [],
  "platform": [],
  "static": [],
  "deno.json": [],
};

/** Everything the server is made of: what the test kit and bench may use. */
const SERVER_FOLDERS = Object.keys(ALLOWED);

/** Tools around the server, which may import all of it but never tests/. */
const TOOLS: Readonly<Record<string, readonly string[]>> = {
  "testkit": SERVER_FOLDERS,
  "bench": [...SERVER_FOLDERS, "testkit"],
};

/** The folder (or root file) a project path belongs to. */
function folderOf(path: string): string {
  const parts = path.split("/");
  if (parts.length === 1) return path;
  if (parts[0] === "adapters" && parts.length > 2) {
    return `adapters/${parts[1]}`;
  }
  return parts[0] ?? path;
}

interface InfoModule {
  readonly specifier: string;
  readonly dependencies?: readonly {
    readonly code?: { readonly specifier?: string };
    readonly type?: { readonly specifier?: string };
  }[];
}

function isInfo(value: unknown): value is { modules: InfoModule[] } {
  return typeof value === "object" && value !== null &&
    "modules" in value && Array.isArray(value.modules);
}

/** The project's own import edges reachable from `entry`. */
async function edgesFrom(entry: string): Promise<[string, string][]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const info: unknown = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.ok(isInfo(info), "deno info --json printed no module list");
  const root = ROOT.href;
  const local = (specifier: string | undefined) =>
    specifier?.startsWith(root) ? specifier.slice(root.length) : undefined;
  const edges: [string, string][] = [];
  for (const module of info.modules) {
    const from = local(module.specifier);
    if (!from) continue;
    for (const dependency of module.dependencies ?? []) {
      for (
        const to of [dependency.code?.specifier, dependency.type?.specifier]
      ) {
        const target = local(to);
        if (target) edges.push([from, target]);
      }
    }
  }
  return edges;
}

/** The project's own import edges reachable from `entries`, each once. */
async function edgesOf(
  entries: readonly string[],
): Promise<[string, string][]> {
  const unique = new Map<string, [string, string]>();
  for (const edges of await Promise.all(entries.map((e) => edgesFrom(e)))) {
    for (const edge of edges) unique.set(edge.join(" → "), edge);
  }
  return [...unique.values()];
}

/** A cycle among `edges`, as the modules on it, or undefined. */
function findCycle(edges: readonly [string, string][]): string[] | undefined {
  const next = new Map<string, string[]>();
  for (const [from, to] of edges) {
    next.set(from, [...(next.get(from) ?? []), to]);
  }
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "open") {
      return [...path.slice(path.indexOf(node)), node];
    }
    state.set(node, "open");
    path.push(node);
    for (const to of next.get(node) ?? []) {
      const cycle = visit(to);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of next.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

Deno.test("imports flow only in the directions docs/architecture.md allows", async (t) => {
  const edges = await edgesOf(ENTRIES);
  await t.step("every folder of the graph is in the table", () => {
    for (const [from, to] of edges) {
      for (const path of [from, to]) {
        assert.ok(
          folderOf(path) in ALLOWED,
          `${path} is in no documented folder`,
        );
      }
    }
  });
  await t.step("no module imports against the direction", () => {
    const wrong = edges.filter(([from, to]) => {
      const a = folderOf(from);
      const b = folderOf(to);
      return a !== b && !ALLOWED[a]?.includes(b);
    }).map(([from, to]) => `${from} → ${to}`);
    assert.deepEqual(wrong, []);
  });
  await t.step("no module imports itself through others", () => {
    assert.equal(findCycle(edges)?.join(" → "), undefined);
  });
});

Deno.test("bench and the test kit never import a test", async () => {
  const wrong = (await edgesOf(await toolModules())).filter(([from, to]) => {
    const a = folderOf(from);
    const b = folderOf(to);
    const allowed = TOOLS[a] ?? ALLOWED[a];
    return a !== b && !allowed?.includes(b);
  }).map(([from, to]) => `${from} → ${to}`);
  assert.deepEqual(wrong, []);
});
