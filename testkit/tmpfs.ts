/**
 * A small tmpfs for tests of a full or read-only disk. Mounting needs root;
 * where it is not allowed the tests say why and are skipped, except under
 * `CI=true`, where a test that cannot run is a failure.
 *
 * @module
 */

/** A mounted tmpfs; dispose it to unmount and remove it. */
export interface Tmpfs extends AsyncDisposable {
  readonly dir: string;
  /** Remounts it read-only. */
  readOnly(): Promise<void>;
}

async function run(...args: string[]): Promise<{ ok: boolean; text: string }> {
  const [command = "", ...rest] = args;
  const output = await new Deno.Command(command, {
    args: rest,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    ok: output.success,
    text: decoder.decode(output.stdout) + decoder.decode(output.stderr),
  };
}

/** Mounts a tmpfs of `size` (e.g. "2m"), or returns why it cannot. */
export async function mountTmpfs(size: string): Promise<Tmpfs | string> {
  const dir = await Deno.makeTempDir({ prefix: "chat-tmpfs-" });
  let mounted: { ok: boolean; text: string };
  try {
    mounted = await run(
      "mount",
      "-t",
      "tmpfs",
      "-o",
      `size=${size}`,
      "tmpfs",
      dir,
    );
  } catch (error) {
    await Deno.remove(dir);
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    return "there is no mount command";
  }
  if (!mounted.ok) {
    await Deno.remove(dir);
    return `mount -t tmpfs is not allowed here: ${mounted.text.trim()}`;
  }
  return {
    dir,
    async readOnly() {
      const result = await run("mount", "-o", "remount,ro", dir);
      if (!result.ok) throw new Error(`remount failed: ${result.text}`);
    },
    async [Symbol.asyncDispose]() {
      const result = await run("umount", dir);
      if (!result.ok) throw new Error(`umount ${dir} failed: ${result.text}`);
      await Deno.remove(dir);
    },
  };
}

/** Whether a test that needs root may be skipped here. */
export const mayskipWithoutRoot = Deno.env.get("CI") !== "true";
