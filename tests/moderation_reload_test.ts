/**
 * A bus may drop (a BroadcastChannel past its queue, Redis while it is
 * away): every hub reads the sanctions in force again every
 * `moderationReloadMs`, so that a mute, a ban and a lift whose event never
 * came are carried out all the same. Here the hubs share one SQLite file
 * and a bus that carries nothing at all.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CloseCode } from "../client/protocol.js";
import { createLocalBus } from "../chat/local_bus.ts";
import type { ModeratedSocket } from "../chat/moderation.ts";
import { isolates } from "../testkit/hub.ts";

/** Wakes whoever waits in {@linkcode until}: a socket was sent something. */
let wake = () => {};

/** A socket as moderation reaches it, keeping what it is sent. */
function socketOf(room: ModeratedSocket["room"], sub: string) {
  const frames: Record<string, unknown>[] = [];
  const closes: { code: number; reason: string }[] = [];
  const socket: ModeratedSocket = {
    room,
    subject: { owner: `signed:${sub}`, address: "192.0.2.1", guest: false },
    typed: true,
    user: () => sub,
    deliver: (text) => {
      frames.push(JSON.parse(text));
      wake();
    },
    close: (code, reason) => {
      closes.push({ code, reason });
      wake();
    },
  };
  return { socket, frames, closes };
}

/**
 * Waits until `done` holds, checked each time a socket is sent something
 * (the reload reaches the sockets), for at most 5 s.
 */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Promise.withResolvers<void>();
  const timer = setTimeout(deadline.resolve, 5_000);
  try {
    while (!done()) {
      const woken = Promise.withResolvers<void>();
      wake = woken.resolve;
      if (done()) break;
      const timedOut = await Promise.race([
        woken.promise.then(() => false),
        deadline.promise.then(() => true),
      ]);
      if (timedOut) break;
    }
  } finally {
    clearTimeout(timer);
    wake = () => {};
  }
  assert.ok(done(), `never: ${what}`);
}

Deno.test("sanctions whose bus events were lost still reach the other isolates", async () => {
  const bus = createLocalBus();
  await using world = await isolates(2, { bus, moderationReloadMs: 50 });
  const [a, b] = world.hubs;
  assert.ok(a && b);
  const room = world.lobby;
  const bob = socketOf(room, "bob");
  const carol = socketOf(room, "carol");
  const detach = [
    b.moderation.attach(bob.socket),
    b.moderation.attach(carol.socket),
  ];
  try {
    const muted = await a.moderation.impose({
      kind: "mute",
      room,
      target: { sub: "bob" },
      durationMs: 600_000,
      reason: "spam",
      actor: "test",
    });
    assert.ok(muted.ok);
    // B's reload tells Bob, then B holds the mute.
    await until(() => bob.frames.some((f) => f.type === "muted"), "bob told");
    await until(
      () =>
        b.moderation.mutedIn(room, bob.socket.subject)?.id ===
          muted.sanction.id,
      "B holds the mute",
    );

    const banned = await a.moderation.impose({
      kind: "ban",
      room,
      target: { sub: "carol" },
      durationMs: null,
      reason: "abuse",
      actor: "test",
    });
    assert.ok(banned.ok);
    await until(() => carol.closes.length === 1, "carol closed");
    assert.deepEqual(carol.closes, [{
      code: CloseCode.Banned,
      reason: "Banned for good: abuse",
    }]);

    assert.ok(await a.moderation.lift("mute", muted.sanction.id, "test"));
    await until(() => bob.frames.some((f) => f.type === "unmuted"), "unmuted");
    assert.equal(b.moderation.mutedIn(room, bob.socket.subject), undefined);
    assert.equal(bob.closes.length, 0);
  } finally {
    for (const off of detach) off();
    await bus.close();
  }
});
