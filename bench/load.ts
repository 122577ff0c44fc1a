/**
 * The load generator: R rooms × C clients, the first S of each room also
 * senders of M messages each, either paced (a rate per sender) or as fast
 * as possible with a bounded window of messages in flight per sender (a
 * sender sends the next once its own copy comes back). Every message's
 * text carries its room, sender, sequence number and send time, so each
 * client counts deliveries, losses, duplicates and messages from another
 * room (leaks), and records latency (send to delivery) in an HdrHistogram.
 * Every wait has a deadline; all sockets are on loopback.
 *
 *     deno run -A bench/load.ts ws://127.0.0.1:8000 [rooms clients senders messages [rate]]
 *
 * runs one load against a server that is already running (its rate limit
 * and per-address limits off); bench/run.ts runs the scenarios.
 *
 * @module
 */

import { build, type Histogram } from "hdr-histogram-js";
import {
  closeAll,
  connect,
  DeadlineError,
  openMany,
  type ServerFrame,
  sleep,
  sourceAddress,
  WebSocket,
  within,
} from "./client.ts";

/** What to run; see the module doc. */
export interface LoadOptions {
  /** The server's WebSocket origin, e.g. `ws://127.0.0.1:8000`. */
  readonly origin: string;
  readonly rooms: number;
  readonly clientsPerRoom: number;
  readonly sendersPerRoom: number;
  readonly messagesPerSender: number;
  /**
   * Messages per second per sender; undefined sends as fast as the window
   * allows. @default undefined
   */
  readonly ratePerSender?: number;
  /** Messages a burst sender may have in flight. @default 32 */
  readonly window?: number;
  /** Prefix of the room names; make it unique per run. */
  readonly roomPrefix: string;
  /** How long the messages may take to arrive. @default 120000 */
  readonly deadlineMs?: number;
  /**
   * Stop waiting once no delivery came for this long after the last send.
   * @default 5000
   */
  readonly stallMs?: number;
  /** Sockets opened at once while connecting. @default 64 */
  readonly connectConcurrency?: number;
  /**
   * Awaited when the clients are connected and the first message is about
   * to go (`"sending"`), and when the last delivery is in, before the
   * clients close (`"done"`): to measure the server over the messages
   * alone. @default none
   */
  readonly onPhase?: (phase: "sending" | "done") => Promise<void> | void;
}

/** What a load measured. */
export interface LoadResult {
  /** Deliveries that should have happened: R × S × M × C. */
  readonly expected: number;
  /** Distinct messages delivered to the right room's clients. */
  readonly delivered: number;
  readonly lost: number;
  readonly duplicates: number;
  /** Messages delivered to a client of another room. */
  readonly leaks: number;
  /** Sockets that could not be opened or admitted. */
  readonly connectFailures: number;
  /** Sockets that closed during the load. */
  readonly closedEarly: number;
  /** From the first send to the last delivery. */
  readonly seconds: number;
  readonly deliveriesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** What went wrong, when something did (first few errors). */
  readonly errors: readonly string[];
}

/** Latencies are recorded in microseconds, up to ten minutes. */
const HIGHEST_MICROSECONDS = 600_000_000;

/** `m <room> <sender> <seq> <sent at, ms>`: the text every message carries. */
function messageText(room: number, sender: number, seq: number): string {
  return `m ${room} ${sender} ${seq} ${performance.now()}`;
}

/** One client: a socket, what it has seen, and (for senders) its pace. */
class Client {
  socket: WebSocket | undefined;
  /** Bit per (sender, seq) of its room: seen or not. */
  readonly seen: Uint8Array;
  sent = 0;
  echoed = 0;

  constructor(
    readonly room: number,
    readonly index: number,
    senders: number,
    messages: number,
  ) {
    this.seen = new Uint8Array(senders * messages);
  }
}

/** Runs one load; see {@linkcode LoadOptions}. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const {
    rooms,
    clientsPerRoom,
    sendersPerRoom: senders,
    messagesPerSender: messages,
  } = options;
  const window = options.window ?? 32;
  const paced = options.ratePerSender !== undefined;
  const expected = rooms * senders * messages * clientsPerRoom;
  const histogram: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_MICROSECONDS,
    numberOfSignificantValueDigits: 3,
  });
  const errors: string[] = [];
  let delivered = 0;
  let duplicates = 0;
  let leaks = 0;
  let closedEarly = 0;
  let measuring = false;
  let lastDeliveryAt = 0;
  let done = Promise.withResolvers<void>();

  const clients: Client[] = [];
  for (let room = 0; room < rooms; room++) {
    for (let index = 0; index < clientsPerRoom; index++) {
      clients.push(new Client(room, index, senders, messages));
    }
  }

  const pump = (client: Client) => {
    const socket = client.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    while (client.sent < messages && client.sent - client.echoed < window) {
      socket.send(
        JSON.stringify({
          message: messageText(client.room, client.index, client.sent),
        }),
      );
      client.sent += 1;
    }
  };

  const onMessage = (client: Client, text: string) => {
    const now = performance.now();
    const [tag, room, sender, seq, sentAt] = text.split(" ");
    if (tag !== "m") return;
    const roomIndex = Number(room);
    const senderIndex = Number(sender);
    const seqIndex = Number(seq);
    if (roomIndex !== client.room) {
      leaks += 1;
      return;
    }
    const bit = senderIndex * messages + seqIndex;
    if (!(bit >= 0 && bit < client.seen.length)) {
      if (errors.length < 5) errors.push(`unexpected message: ${text}`);
      return;
    }
    if (client.seen[bit]) {
      duplicates += 1;
      return;
    }
    client.seen[bit] = 1;
    delivered += 1;
    lastDeliveryAt = now;
    histogram.recordValue(
      Math.min(
        HIGHEST_MICROSECONDS,
        Math.max(1, Math.round((now - Number(sentAt)) * 1000)),
      ),
    );
    if (senderIndex === client.index && !paced) {
      client.echoed += 1;
      pump(client);
    }
    if (delivered === expected) done.resolve();
  };

  const onFrame = (client: Client) => (frame: ServerFrame) => {
    if (
      !measuring || frame.type !== "message" ||
      typeof frame.message !== "string"
    ) return;
    onMessage(client, frame.message);
  };

  const urlOf = (client: Client) =>
    `${options.origin}/ws/chat/${options.roomPrefix}-${client.room}/?name=c${client.index}`;

  const connected = await openMany(
    clients.length,
    options.connectConcurrency ?? 64,
    async (index) => {
      const client = clients[index];
      if (!client) throw new Error(`no client ${index}`);
      client.socket = await connect(urlOf(client), {
        localAddress: sourceAddress(index),
        onFrame: onFrame(client),
        onClose: () => {
          if (measuring) closedEarly += 1;
        },
      });
      return client.socket;
    },
  );
  errors.push(...connected.errors);

  try {
    // Join announcements (gathered per 150 ms by the chat server) settle
    // before the clock starts.
    await sleep(400);
    await options.onPhase?.("sending");
    measuring = true;
    done = Promise.withResolvers<void>();
    const senderClients = clients.filter((client) => client.index < senders);
    const started = performance.now();
    lastDeliveryAt = started;
    let sendingDone: Promise<void>;
    if (paced) {
      sendingDone = sendPaced(senderClients, options, messages);
    } else {
      for (const client of senderClients) pump(client);
      sendingDone = Promise.resolve();
    }
    const deadline = started + (options.deadlineMs ?? 120_000);
    const stallMs = options.stallMs ?? 5000;
    await sendingDone;
    while (delivered < expected) {
      const now = performance.now();
      const allSent = senderClients.every((client) => client.sent === messages);
      if (now > deadline) {
        errors.push(`deadline: ${delivered} of ${expected} delivered`);
        break;
      }
      if (allSent && now - lastDeliveryAt > stallMs) {
        errors.push(`stalled: ${delivered} of ${expected} delivered`);
        break;
      }
      try {
        await within(done.promise, 250, "deliveries");
      } catch (error) {
        if (!(error instanceof DeadlineError)) throw error;
      }
    }
    measuring = false;
    await options.onPhase?.("done");
    const seconds = (lastDeliveryAt - started) / 1000;
    const ms = (value: number) => value / 1000;
    return {
      expected,
      delivered,
      lost: expected - delivered,
      duplicates,
      leaks,
      connectFailures: connected.failures,
      closedEarly,
      seconds,
      deliveriesPerSecond: seconds > 0 ? delivered / seconds : 0,
      p50Ms: ms(histogram.getValueAtPercentile(50)),
      p99Ms: ms(histogram.getValueAtPercentile(99)),
      maxMs: ms(histogram.maxValue),
      errors,
    };
  } finally {
    measuring = false;
    await closeAll(clients.map((client) => client.socket));
    histogram.destroy();
  }
}

/**
 * Each sender sends at its rate, on its own schedule (offset so that the
 * senders do not all fire in the same millisecond); a late timer catches up
 * rather than drifting, so the offered load stays what was asked.
 */
async function sendPaced(
  senders: Client[],
  options: LoadOptions,
  messages: number,
): Promise<void> {
  const interval = 1000 / (options.ratePerSender ?? 1);
  const start = performance.now();
  await Promise.all(senders.map(async (client, order) => {
    const offset = (interval * order) / senders.length;
    while (client.sent < messages) {
      const due = start + offset + client.sent * interval;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const socket = client.socket;
      if (!socket || socket.readyState !== WebSocket.OPEN) return;
      socket.send(
        JSON.stringify({
          message: messageText(client.room, client.index, client.sent),
        }),
      );
      client.sent += 1;
    }
  }));
}

/** One line about a result, for logs. */
export function describeLoad(result: LoadResult): string {
  const rate = Math.round(result.deliveriesPerSecond);
  return `${result.delivered}/${result.expected} delivered in ${
    result.seconds.toFixed(2)
  } s (${rate}/s), p50 ${result.p50Ms.toFixed(2)} ms, p99 ${
    result.p99Ms.toFixed(2)
  } ms, max ${
    result.maxMs.toFixed(1)
  } ms; lost ${result.lost}, duplicates ${result.duplicates}, leaks ${result.leaks}, connect failures ${result.connectFailures}, closed early ${result.closedEarly}${
    result.errors.length ? `; ${result.errors.join("; ")}` : ""
  }`;
}

if (import.meta.main) {
  const [origin, ...numbers] = Deno.args;
  if (!origin) {
    console.error(
      "usage: bench/load.ts ws://HOST:PORT [rooms clients senders messages [rate]]",
    );
    Deno.exit(2);
  }
  const [rooms = 10, clients = 10, senders = 1, messages = 200, rate] = numbers
    .map(Number);
  const result = await runLoad({
    origin,
    rooms,
    clientsPerRoom: clients,
    sendersPerRoom: senders,
    messagesPerSender: messages,
    ...(rate === undefined ? {} : { ratePerSender: rate }),
    roomPrefix: `load-${crypto.randomUUID().slice(0, 8)}`,
  });
  console.log(describeLoad(result));
}
