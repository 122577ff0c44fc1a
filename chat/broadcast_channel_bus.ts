/**
 * The {@linkcode Bus} over `BroadcastChannel`: one channel per room, shared by
 * every isolate of the process (`deno serve --parallel`).
 *
 * @module
 */

import type { Bus, BusSubscription } from "./bus.ts";
import type { RoomName } from "./room_name.ts";

/** Names the channel of a room; the prefix keeps other users of the API out. */
export function roomChannelName(room: RoomName): string {
  return `chat-room:${room}`;
}

/** Creates a bus whose subscriptions are BroadcastChannels. */
export function createBroadcastChannelBus(): Bus {
  return {
    subscribe(room, receive): BusSubscription {
      const channel = new BroadcastChannel(roomChannelName(room));
      channel.onmessage = (event: MessageEvent<unknown>) => receive(event.data);
      let open = true;
      return {
        publish(data) {
          if (open) channel.postMessage(data);
        },
        close() {
          if (!open) return;
          open = false;
          channel.close();
        },
      };
    },
  };
}
