/**
 * The reconnect storm: clients spread over rooms all lose their
 * connection at once (a restart, a network blip) and come straight back
 * with `since=<last id>`, while one sender per room goes on sending. It
 * measures the time from the drop until every client has its `history`
 * frame with `"recovered": true`, and then checks that every client holds
 * every message of its room exactly once (history and live together).
 * Needs the chat server: the featureless baseline has no ids and no
 * `since=`.
 *
 *     deno run -A bench/reconnect_storm.ts ws://127.0.0.1:8000 [rooms clients rate]
 *
 * @module
 */

import {
  closeAll,
  connect,
  openMany,
  type ServerFrame,
  sleep,
  sourceAddress,
  WebSocket,
} from "./client.ts";

/** What to run; see the module doc. */
export interface StormOptions {
  /** The chat server's WebSocket origin, e.g. `ws://127.0.0.1:8000`. */
  readonly origin: string;
  readonly rooms: number;
  /** Clients per room that drop and reconnect (the sender does not). */
  readonly clientsPerRoom: number;
  /** Messages per second of each room's sender. */
  readonly ratePerSender: number;
  /** Prefix of room names and keys: letters, digits and `-` only. */
  readonly roomPrefix: string;
  /** Sending before the drop. @default 1000 */
  readonly warmupMs?: number;
  /** Sending after every client has recovered. @default 1000 */
  readonly afterMs?: number;
  /** Longest the whole storm may take. @default 60000 */
  readonly deadlineMs?: number;
}

/** What a storm measured. */
export interface StormResult {
  readonly clients: number;
  /** From the drop until the last client recovered; NaN if one did not. */
  readonly recoverySeconds: number;
  /** Median time to recover. */
  readonly medianRecoverySeconds: number;
  /** Clients that did not come back, or came back with recovered: false. */
  readonly notRecovered: number;
  /** Messages the senders had stored. */
  readonly messages: number;
  /** Ids missing at a client at the end, over all clients. */
  readonly lost: number;
  readonly duplicates: number;
  readonly errors: readonly string[];
}

/** A client that drops and comes back, and the ids it has seen. */
class Receiver {
  socket: WebSocket | undefined;
  seen: Uint8Array = new Uint8Array(1024);
  lastId = 0;
  duplicates = 0;
  /** performance.now() of its recovered history after the drop. */
  recoveredAt: number | undefined;
  refusedRecovery = false;
  reconnecting = false;

  constructor(readonly room: number, readonly index: number) {}

  see(id: number): void {
    if (id >= this.seen.length) {
      const grown = new Uint8Array(Math.max(id + 1, this.seen.length * 2));
      grown.set(this.seen);
      this.seen = grown;
    }
    if (this.seen[id]) {
      this.duplicates += 1;
      return;
    }
    this.seen[id] = 1;
    if (id > this.lastId) this.lastId = id;
  }

  onFrame = (frame: ServerFrame): void => {
    if (frame.type === "message" && typeof frame.id === "number") {
      this.see(frame.id);
    } else if (frame.type === "history") {
      for (const message of frame.messages ?? []) {
        if (typeof message.id === "number") this.see(message.id);
      }
      if (this.reconnecting) {
        this.recoveredAt = performance.now();
        if (frame.recovered !== true) this.refusedRecovery = true;
      }
    }
  };

  /** Ids in 1…`last` missing here. */
  missing(last: number): number {
    let count = 0;
    for (let id = 1; id <= last; id++) if (!this.seen[id]) count += 1;
    return count;
  }
}

/** One room's sender: paced, never dropped; knows the room's last id. */
class Sender {
  socket: WebSocket | undefined;
  sent = 0;
  echoed = 0;
  lastId = 0;

  constructor(readonly room: number) {}

  onFrame = (frame: ServerFrame): void => {
    if (frame.type === "message" && typeof frame.id === "number") {
      this.echoed += 1;
      this.lastId = Math.max(this.lastId, frame.id);
    }
  };
}

/** Waits until `ready()` or `deadline` (performance.now()), polling. */
async function until(ready: () => boolean, deadline: number): Promise<boolean> {
  while (!ready()) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** Runs one storm; see {@linkcode StormOptions}. */
export async function runStorm(options: StormOptions): Promise<StormResult> {
  const { rooms, clientsPerRoom, roomPrefix } = options;
  const started = performance.now();
  const deadline = started + (options.deadlineMs ?? 60_000);
  const errors: string[] = [];
  const roomUrl = (room: number) =>
    `${options.origin}/ws/chat/${roomPrefix}-${room}/`;
  const receivers: Receiver[] = [];
  for (let room = 0; room < rooms; room++) {
    for (let index = 0; index < clientsPerRoom; index++) {
      receivers.push(new Receiver(room, index));
    }
  }
  const senders = Array.from({ length: rooms }, (_, room) => new Sender(room));
  const receiverUrl = (receiver: Receiver, since?: number) =>
    `${
      roomUrl(receiver.room)
    }?name=c${receiver.index}&key=${roomPrefix}-key-${receiver.index}${
      since === undefined ? "" : `&since=${since}`
    }`;
  const open = (receiver: Receiver, number: number, since?: number) =>
    connect(receiverUrl(receiver, since), {
      localAddress: sourceAddress(number),
      onFrame: receiver.onFrame,
    });

  let sending = true;
  let sendingDone: Promise<void> = Promise.resolve();
  try {
    const first = await openMany(receivers.length, 64, async (number) => {
      const receiver = receivers[number];
      if (!receiver) throw new Error(`no receiver ${number}`);
      receiver.socket = await open(receiver, number);
    });
    const sendersOpened = await openMany(rooms, 16, async (room) => {
      const sender = senders[room];
      if (!sender) throw new Error(`no sender ${room}`);
      sender.socket = await connect(`${roomUrl(room)}?name=sender`, {
        onFrame: sender.onFrame,
      });
    });
    errors.push(...first.errors, ...sendersOpened.errors);
    if (first.failures + sendersOpened.failures > 0) {
      throw new Error(`could not connect: ${errors.join("; ")}`);
    }
    await sleep(300); // the joins are announced
    const interval = 1000 / options.ratePerSender;
    const sendStart = performance.now();
    sendingDone = Promise.all(senders.map(async (sender) => {
      const offset = (interval * sender.room) / rooms;
      while (sending && performance.now() < deadline) {
        const wait = sendStart + offset + sender.sent * interval -
          performance.now();
        if (wait > 0) await sleep(wait);
        if (sender.socket?.readyState !== WebSocket.OPEN) return;
        sender.socket.send(JSON.stringify({ message: `s ${sender.sent}` }));
        sender.sent += 1;
      }
    })).then(() => {});

    await sleep(options.warmupMs ?? 1000);
    // The drop: every receiver at once, without a close handshake, and
    // straight back with what it last saw.
    const droppedAt = performance.now();
    for (const receiver of receivers) {
      receiver.reconnecting = true;
      receiver.socket?.terminate();
    }
    const again = await openMany(
      receivers.length,
      receivers.length,
      async (number) => {
        const receiver = receivers[number];
        if (!receiver) throw new Error(`no receiver ${number}`);
        receiver.socket = await open(receiver, number, receiver.lastId);
      },
    );
    errors.push(...again.errors);
    const recoveredAll = await until(
      () => receivers.every((receiver) => receiver.recoveredAt !== undefined),
      deadline,
    );
    if (!recoveredAll) errors.push("not every client recovered in time");

    await sleep(options.afterMs ?? 1000);
    sending = false;
    await sendingDone;
    // Every message sent is stored and echoed to its sender …
    const settled = await until(
      () => senders.every((sender) => sender.echoed === sender.sent),
      deadline,
    );
    if (!settled) errors.push("a sender did not get all its echoes");
    // … and then reaches every client of the room.
    const lastOf = (receiver: Receiver) => senders[receiver.room]?.lastId ?? 0;
    const delivered = await until(
      () => receivers.every((receiver) => receiver.lastId >= lastOf(receiver)),
      deadline,
    );
    if (!delivered) errors.push("not every client got the last message");

    const times = receivers.flatMap((receiver) =>
      receiver.recoveredAt === undefined
        ? []
        : [(receiver.recoveredAt - droppedAt) / 1000]
    ).sort((a, b) => a - b);
    const notRecovered = receivers.filter((receiver) =>
      receiver.recoveredAt === undefined || receiver.refusedRecovery
    ).length;
    return {
      clients: receivers.length,
      recoverySeconds: notRecovered > 0 ? NaN : times.at(-1) ?? NaN,
      medianRecoverySeconds: times[Math.floor(times.length / 2)] ?? NaN,
      notRecovered,
      messages: senders.reduce((sum, sender) =>
        sum + sender.sent, 0),
      lost: receivers.reduce(
        (sum, receiver) => sum + receiver.missing(lastOf(receiver)),
        0,
      ),
      duplicates: receivers.reduce(
        (sum, receiver) => sum + receiver.duplicates,
        0,
      ),
      errors,
    };
  } finally {
    sending = false;
    await sendingDone;
    await closeAll([
      ...receivers.map((receiver) => receiver.socket),
      ...senders.map((sender) => sender.socket),
    ]);
  }
}

/** One line about a storm, for logs. */
export function describeStorm(result: StormResult): string {
  return `${result.clients} clients recovered in ${
    result.recoverySeconds.toFixed(2)
  } s (median ${
    result.medianRecoverySeconds.toFixed(2)
  } s); ${result.messages} messages, not recovered ${result.notRecovered}, lost ${result.lost}, duplicates ${result.duplicates}${
    result.errors.length ? `; ${result.errors.join("; ")}` : ""
  }`;
}

if (import.meta.main) {
  const [origin, ...numbers] = Deno.args;
  if (!origin) {
    console.error(
      "usage: bench/reconnect_storm.ts ws://HOST:PORT [rooms clients rate]",
    );
    Deno.exit(2);
  }
  const [rooms = 20, clients = 100, rate = 10] = numbers.map(Number);
  console.log(describeStorm(
    await runStorm({
      origin,
      rooms,
      clientsPerRoom: clients,
      ratePerSender: rate,
      roomPrefix: `storm-${crypto.randomUUID().slice(0, 8)}`,
    }),
  ));
}
