/**
 * The client library as an npm user gets it: `npm pack` of client/ into a
 * temporary folder, installed from the tarball into a fresh Node project
 * (offline: the package has no dependencies), and Node 22 to run scripts
 * there (`npx -y node@22`, whatever Node the machine has).
 *
 * @module
 */

import { decoder, ROOT } from "./cli.ts";

/** The Node that scripts run on: the oldest the package supports. */
export const NODE = ["npx", "-y", "node@22"] as const;

/** A Node project with the packed client installed; dispose to delete it. */
export interface ClientProject extends AsyncDisposable {
  /** The project's folder (its package.json and node_modules). */
  readonly dir: string;
  /** The package's name, as a consumer imports it. */
  readonly name: string;
  /** The tarball `npm pack` made. */
  readonly tarball: string;
}

/** Runs `command` in `cwd` to its exit; throws with its output on failure. */
export async function run(
  command: readonly string[],
  cwd: string | URL,
): Promise<string> {
  const [program = "", ...args] = command;
  const output = await new Deno.Command(program, {
    args,
    cwd,
    env: { NO_COLOR: "1", npm_config_update_notifier: "false" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const printed = decoder.decode(output.stdout);
  if (!output.success) {
    throw new Error(
      `${command.join(" ")} exited with ${output.code}:\n${printed}${
        decoder.decode(output.stderr)
      }`,
    );
  }
  return printed;
}

/** Packs client/ and installs the tarball into a new Node project. */
export async function installClientPackage(): Promise<ClientProject> {
  const root = await Deno.makeTempDir({ prefix: "chat-client-npm-" });
  try {
    const packed = await run(
      ["npm", "pack", "--json", "--pack-destination", root, "./client"],
      ROOT,
    );
    const parsed: unknown = JSON.parse(packed);
    const [entry]: unknown[] = Array.isArray(parsed) ? parsed : [];
    if (
      !(typeof entry === "object" && entry !== null && "filename" in entry &&
        typeof entry.filename === "string" && "name" in entry &&
        typeof entry.name === "string")
    ) throw new Error(`npm pack named no tarball: ${packed}`);
    const { name } = entry;
    const tarball = `${root}/${entry.filename}`;
    const dir = `${root}/project`;
    await Deno.mkdir(dir);
    await Deno.writeTextFile(
      `${dir}/package.json`,
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    await run(
      ["npm", "install", "--offline", "--no-audit", "--no-fund", tarball],
      dir,
    );
    return {
      dir,
      name,
      tarball,
      [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
    };
  } catch (error) {
    await Deno.remove(root, { recursive: true });
    throw error;
  }
}
