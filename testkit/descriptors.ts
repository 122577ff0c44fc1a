/**
 * Running a process out of file descriptors, for the fixtures that check
 * what the server does when none is left.
 *
 * @module
 */

import { isOutOfDescriptors } from "../platform/descriptors.ts";

/**
 * Opens `/dev/null` until the open-file limit refuses, and returns the
 * files it holds: close them to give the descriptors back.
 */
export function takeEveryDescriptor(): Deno.FsFile[] {
  const held: Deno.FsFile[] = [];
  try {
    while (true) held.push(Deno.openSync("/dev/null"));
  } catch (error) {
    if (!isOutOfDescriptors(error)) throw error;
  }
  return held;
}
