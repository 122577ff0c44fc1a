/**
 * The {@linkcode Bus} of a server that is the only isolate of its process
 * and has no Redis: no other isolate could hear a publish, so nothing is
 * sent. Other processes on the same SQLite file share no BroadcastChannel
 * with it in any case; their messages arrive through the rooms' repair
 * from the store.
 *
 * @module
 */

import type { Bus } from "./bus.ts";

/** Creates a bus that carries nothing, for a server alone in its process. */
export function createLocalBus(): Bus {
  let closed = false;
  return {
    publish: () =>
      closed
        ? Promise.reject(new Error("The bus is closed"))
        : Promise.resolve(),
    subscribe: () => ({ live: Promise.resolve(), close() {} }),
    ping: () =>
      closed
        ? Promise.reject(new Error("The bus is closed"))
        : Promise.resolve(),
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}
