/**
 * The {@linkcode Bus} over `BroadcastChannel`: one channel per room, shared by
 * every isolate of the process (`deno serve --parallel`, `--workers`).
 *
 * @module
 */

import type { Bus, BusSubscription } from "../../chat/bus.ts";
import type { RoomName } from "../../chat/room_name.ts";

/** Names the channel of a room; the prefix keeps other users of the API out. */
export function roomChannelName(room: RoomName): string {
  return `chat-room:${room}`;
}

/** Creates a bus whose subscriptions are BroadcastChannels. */
export function createBroadcastChannelBus(): Bus {
  /** Each room's channel, opened by its first subscription. */
  const channels = new Map<RoomName, {
    channel: BroadcastChannel;
    receivers: Set<(data: unknown) => void>;
  }>();
  let closed = false;
  /**
   * Open for the life of the bus, so that this isolate always has a
   * channel. Deno shares one subscription among an isolate's channels and
   * drops it when the last one closes; a channel opened while it is being
   * dropped posts on a subscription that is gone ("expected i32", the
   * message lost). Without listeners it keeps nothing alive.
   */
  const anchor = new BroadcastChannel("chat-bus:anchor");

  return {
    publish(room, data) {
      if (closed) return Promise.resolve();
      try {
        const open = channels.get(room);
        if (open) {
          open.channel.postMessage(data);
          return Promise.resolve();
        }
        // Nobody here listens to the room (its last member just left): the
        // other isolates still need to hear it, through a short-lived one.
        const channel = new BroadcastChannel(roomChannelName(room));
        channel.postMessage(data);
        channel.close();
        return Promise.resolve();
      } catch (error) {
        // A failure to post is the caller's to log, not a thrown send.
        return Promise.reject(error);
      }
    },
    subscribe(room, receive): BusSubscription {
      let open = channels.get(room);
      if (!open) {
        const channel = new BroadcastChannel(roomChannelName(room));
        const receivers = new Set<(data: unknown) => void>();
        channel.onmessage = (event: MessageEvent<unknown>) => {
          for (const each of receivers) each(event.data);
        };
        open = { channel, receivers };
        channels.set(room, open);
      }
      const entry = open;
      entry.receivers.add(receive);
      let subscribed = true;
      return {
        // A BroadcastChannel receives from the moment it exists.
        live: Promise.resolve(),
        close() {
          if (!subscribed) return;
          subscribed = false;
          entry.receivers.delete(receive);
          if (entry.receivers.size > 0) return;
          entry.channel.close();
          if (channels.get(room) === entry) channels.delete(room);
        },
      };
    },
    ping: () => Promise.resolve(),
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      for (const { channel } of channels.values()) channel.close();
      channels.clear();
      anchor.close();
      return Promise.resolve();
    },
  };
}
