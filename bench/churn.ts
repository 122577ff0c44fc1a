/**
 * Presence churn: a big room whose members keep
 * leaving and coming back, and what that costs everyone else. The room's
 * idle members are held by child processes (bench/idle_clients.ts), its
 * cycling members by another (bench/cycling_clients.ts: close, reconnect
 * under a new name, at a bounded rate), and a few sampled members here
 * count the frames and bytes they receive. Meanwhile another room carries
 * a paced load (bench/load.ts), whose latency is measured twice per round:
 * with the room of members quiet, then with it churning. The featureless
 * baseline has no presence, so the quiet room is the baseline of the
 * ratio. Needs the chat server.
 *
 *     deno run -A bench/churn.ts ws://127.0.0.1:8000 [members cyclers reconnects/s seconds]
 *
 * @module
 */

import {
  closeAll,
  connect,
  sleep,
  sourceAddress,
  WebSocket,
} from "./client.ts";
import { holdIdleClients } from "./idle_clients.ts";
import { type CycleReport, startCycling } from "./cycling_clients.ts";
import {
  describeLoad,
  type LoadOptions,
  type LoadResult,
  runLoad,
} from "./load.ts";
import { cpuSeconds, machineCpuSeconds } from "./servers.ts";

/** The other room's load: one room, paced. */
export type OtherRoomLoad =
  & Omit<LoadOptions, "origin" | "roomPrefix" | "rooms" | "onPhase">
  & { readonly ratePerSender: number };

/** What to run; see the module doc. */
export interface ChurnOptions {
  /** The chat server's WebSocket origin, e.g. `ws://127.0.0.1:8000`. */
  readonly origin: string;
  /** Members of the big room, the cycling and sampled ones included. */
  readonly members: number;
  /** Members that leave and come back. */
  readonly cyclers: number;
  /** Reconnects per second over all cycling members, at most. */
  readonly reconnectsPerSecond: number;
  /** Members here that count what they receive. @default 5 */
  readonly samples?: number;
  /** The load of the other room, whose latency is measured. */
  readonly otherRoom: OtherRoomLoad;
  /** Measurements of each kind, quiet then churning. @default 1 */
  readonly rounds?: number;
  /** Cycling before a churning measurement starts, in ms. @default 2000 */
  readonly settleMs?: number;
  /** Prefix of room names; make it unique per run. */
  readonly roomPrefix: string;
  /** The server's process id, for its CPU time. @default not measured */
  readonly pid?: number;
}

/** One measurement of the other room, with the big room quiet or not. */
export interface ChurnPhase {
  readonly load: LoadResult;
  /** Frames a second the busiest sampled member received. */
  readonly framesPerMemberSecond: number;
  /** Bytes a second the busiest sampled member received. */
  readonly bytesPerMemberSecond: number;
  /** Server CPU time over wall time, 1 = one CPU; NaN when not measured. */
  readonly serverCpu: number;
  /**
   * Share of the machine's CPU time that was busy, 0 to 1, everything on
   * it included: the generator's processes, the server, other work.
   */
  readonly machineBusy: number;
  /** What the cycling did (churning phases only). */
  readonly cycling?: CycleReport;
}

/** What a churn run measured. */
export interface ChurnResult {
  readonly quiet: readonly ChurnPhase[];
  readonly churning: readonly ChurnPhase[];
  /** Members admitted to the big room, of `members`. */
  readonly admitted: number;
  /** Sockets of the big room that failed or were closed by the server. */
  readonly failures: number;
  readonly errors: readonly string[];
}

/** A member of the big room that counts what it receives. */
class Sample {
  socket: WebSocket | undefined;
  frames = 0;
  bytes = 0;
  closed = false;

  /** Counts every frame after admission (history and presence excluded). */
  watch(socket: WebSocket): void {
    this.socket = socket;
    socket.on("message", (data) => {
      this.frames += 1;
      this.bytes += Array.isArray(data)
        ? data.reduce((sum, part) => sum + part.length, 0)
        : data instanceof ArrayBuffer
        ? data.byteLength
        : data.length;
    });
  }
}

/** Frames and bytes each sampled member had received at one moment. */
type Counted = readonly (readonly [frames: number, bytes: number])[];

/** Runs the scenario; see {@linkcode ChurnOptions}. */
export async function runChurn(options: ChurnOptions): Promise<ChurnResult> {
  const samples = options.samples ?? 5;
  const idleCount = options.members - options.cyclers - samples;
  if (idleCount < 0) {
    throw new Error(
      `Cannot run churn: ${options.members} members cannot hold ${options.cyclers} cycling and ${samples} sampled ones`,
    );
  }
  const rounds = options.rounds ?? 1;
  const settleMs = options.settleMs ?? 2000;
  // bench/idle_clients.ts names its rooms <prefix>-<n>: this is its room 0.
  const room = `${options.roomPrefix}-big-0`;
  const errors: string[] = [];
  let failures = 0;

  // Idle members are i0…, cycling ones k<n>… and sampled ones s<n>,
  // numbered on from each other so that their source addresses spread.
  await using idle = await holdIdleClients({
    origin: options.origin,
    count: idleCount,
    rooms: 1,
    roomPrefix: `${options.roomPrefix}-big`,
  });
  errors.push(...idle.errors);
  failures += idle.failed;
  const loadSeconds = options.otherRoom.messagesPerSender /
    options.otherRoom.ratePerSender;
  await using cycling = await startCycling({
    origin: options.origin,
    room,
    count: options.cyclers,
    reconnectsPerSecond: options.reconnectsPerSecond,
    // One churning phase: settling, connecting the load, the load itself.
    deadlineMs: settleMs + 1000 * loadSeconds + 60_000,
    firstIndex: idleCount,
  });
  errors.push(...cycling.errors);
  failures += cycling.failed;
  const sampled = Array.from({ length: samples }, () => new Sample());
  try {
    for (const [order, sample] of sampled.entries()) {
      const index = idleCount + options.cyclers + order;
      try {
        sample.watch(
          await connect(`${options.origin}/ws/chat/${room}/?name=s${index}`, {
            localAddress: sourceAddress(index),
            onClose: () => {
              sample.closed = true;
            },
          }),
        );
      } catch (error) {
        failures += 1;
        errors.push(String(error));
      }
    }
    await sleep(1000); // the last joins are announced

    let loads = 0;
    /** One load of the other room, and the sampled members meanwhile. */
    const measure = async (): Promise<ChurnPhase> => {
      const counted = (): Counted =>
        sampled.map((sample) => [sample.frames, sample.bytes]);
      const cpu = () =>
        options.pid === undefined ? NaN : cpuSeconds(options.pid);
      let first: Counted = [];
      let last: Counted = [];
      let startedAt = 0;
      let seconds = NaN;
      let cpuAtStart = NaN;
      let serverCpu = NaN;
      let machineAtStart = { busy: 0, total: 0 };
      let machineBusy = NaN;
      const load = await runLoad({
        ...options.otherRoom,
        rooms: 1,
        origin: options.origin,
        roomPrefix: `${options.roomPrefix}-other${loads++}`,
        // From the first message sent to the last delivered.
        onPhase: async (phase) => {
          if (phase === "sending") {
            first = counted();
            startedAt = performance.now();
            cpuAtStart = await cpu();
            machineAtStart = await machineCpuSeconds();
          } else {
            last = counted();
            seconds = (performance.now() - startedAt) / 1000;
            serverCpu = (await cpu() - cpuAtStart) / seconds;
            const machine = await machineCpuSeconds();
            machineBusy = (machine.busy - machineAtStart.busy) /
              (machine.total - machineAtStart.total);
          }
        },
      });
      const rates = last.map(([frames, bytes], order) => {
        const [framesBefore = 0, bytesBefore = 0] = first[order] ?? [];
        return [
          (frames - framesBefore) / seconds,
          (bytes - bytesBefore) / seconds,
        ] as const;
      });
      return {
        load,
        framesPerMemberSecond: Math.max(0, ...rates.map(([frames]) => frames)),
        bytesPerMemberSecond: Math.max(0, ...rates.map(([, bytes]) => bytes)),
        serverCpu,
        machineBusy,
      };
    };
    const cycled = (report: CycleReport) => {
      failures += report.failures + report.closedByServer +
        (report.deadline ? 1 : 0);
      errors.push(...report.errors);
      if (report.deadline) errors.push("cycling reached its deadline");
    };

    // Not measured: a fresh server has run joins so far, not yet leaves,
    // and the JIT has not seen the other room's messages.
    await cycling.start();
    await runLoad({
      ...options.otherRoom,
      rooms: 1,
      messagesPerSender: Math.min(100, options.otherRoom.messagesPerSender),
      origin: options.origin,
      roomPrefix: `${options.roomPrefix}-warm`,
    });
    cycled(await cycling.stop());

    const quiet: ChurnPhase[] = [];
    const churning: ChurnPhase[] = [];
    for (let round = 0; round < rounds; round++) {
      quiet.push(await measure());
      await cycling.start();
      await sleep(settleMs);
      const phase = await measure();
      const report = await cycling.stop();
      cycled(report);
      churning.push({ ...phase, cycling: report });
    }
    const closedEarly = await idle.release();
    failures += closedEarly + sampled.filter((sample) => sample.closed).length;
    return {
      quiet,
      churning,
      admitted: idle.admitted + cycling.admitted +
        sampled.filter((sample) => sample.socket).length,
      failures,
      errors: errors.slice(0, 5),
    };
  } finally {
    await closeAll(sampled.map((sample) => sample.socket));
  }
}

/**
 * The other room of a run of `seconds` from the command line: ten members,
 * one of them sending 50 messages a second for the whole run.
 */
export function otherRoomFor(seconds: number): OtherRoomLoad {
  return {
    clientsPerRoom: 10,
    sendersPerRoom: 1,
    messagesPerSender: 50 * seconds,
    ratePerSender: 50,
  };
}

/** One line about a measurement, for logs. */
export function describeChurnPhase(phase: ChurnPhase): string {
  const cycling = phase.cycling;
  const cycles = cycling
    ? `; ${
      (cycling.cycles / cycling.seconds).toFixed(1)
    } reconnects/s (${cycling.failures} failed)`
    : "";
  const cpu = Number.isNaN(phase.serverCpu)
    ? ""
    : `; server CPU ${(100 * phase.serverCpu).toFixed(0)}%`;
  const machine = `, machine ${(100 * phase.machineBusy).toFixed(0)}% busy`;
  return `${describeLoad(phase.load)}; sampled member ${
    phase.framesPerMemberSecond.toFixed(1)
  } frames/s, ${
    (phase.bytesPerMemberSecond / 1024).toFixed(1)
  } KiB/s${cycles}${cpu}${machine}`;
}

if (import.meta.main) {
  const [origin, ...numbers] = Deno.args;
  if (!origin) {
    console.error(
      "usage: bench/churn.ts ws://HOST:PORT [members cyclers reconnects/s seconds]",
    );
    Deno.exit(2);
  }
  const [members = 2000, cyclers = 150, rate = 300, seconds = 20] = numbers
    .map(Number);
  const result = await runChurn({
    origin,
    members,
    cyclers,
    reconnectsPerSecond: rate,
    otherRoom: otherRoomFor(seconds),
    roomPrefix: `churn-${crypto.randomUUID().slice(0, 8)}`,
  });
  for (const phase of result.quiet) {
    console.log(`quiet: ${describeChurnPhase(phase)}`);
  }
  for (const phase of result.churning) {
    console.log(`churning: ${describeChurnPhase(phase)}`);
  }
  console.log(
    `${result.admitted}/${members} members admitted, ${result.failures} failures${
      result.errors.length ? `; ${result.errors.join("; ")}` : ""
    }`,
  );
}
