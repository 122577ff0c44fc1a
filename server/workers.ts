/**
 * The main thread under `--workers N`: starts N Workers that share the port
 * through `SO_REUSEPORT`, counts connections for the whole process, merges
 * the workers' metrics into one `/metrics`, replaces a worker that dies,
 * and shuts them all down within a deadline that it keeps itself, since
 * its own event loop has nothing else to do.
 *
 * @module
 */

import { connectionLimits } from "./app.ts";
import {
  descriptorsFree,
  THREAD_DESCRIPTORS,
} from "../platform/descriptors.ts";
import type { Logger } from "../observability/log.ts";
import {
  expositionText,
  mergeSnapshots,
  type MetricsSnapshot,
} from "../observability/series.ts";
import { createProcessMetrics } from "../observability/process_metrics.ts";
import { CountingLimiter } from "../http/connections.ts";
import { createSharedBucketTable } from "../chat/shared_buckets.ts";
import { StartupError } from "./listen.ts";
import type { Config } from "./settings.ts";
import { finishedWithin } from "../platform/deadline.ts";
import {
  type FromWorker,
  parseFromWorker,
  type ToWorker,
} from "./worker_messages.ts";

/** Options for {@linkcode WorkerSupervisor}. */
export interface SupervisorOptions {
  readonly config: Config;
  /** The command line, which every worker parses again. */
  readonly args: readonly string[];
  /** The entry module, started again as each worker. */
  readonly moduleUrl: string;
  readonly log: Logger;
  /** Let SIGUSR2-driven tests crash a worker. @default false */
  readonly testHooks?: boolean;
}

/** How long a scrape waits for every worker's snapshot. */
const COLLECT_TIMEOUT_MS = 2000;
/** A slot whose worker dies again within this is restarted no sooner. */
const RESTART_SPACING_MS = 1000;

/** One worker's life in its place `index`; a replacement gets a new one. */
interface Slot {
  readonly index: number;
  readonly worker: Worker;
  readonly startedAt: number;
  /** Its id in the presence table, once it listens. */
  node: string | undefined;
  /** Connection places this worker holds, by address. */
  readonly held: Map<string, number>;
  state: "starting" | "serving" | "stopping" | "dead";
  /** Settles when this worker listens, or cannot. */
  readonly started: PromiseWithResolvers<{ hostname: string; port: number }>;
}

/** A metrics collection in progress. */
interface Collection {
  readonly waiting: Set<number>;
  readonly snapshots: MetricsSnapshot[];
  readonly done: PromiseWithResolvers<void>;
}

/** Starts, watches, replaces and stops the workers of one process. */
export class WorkerSupervisor {
  readonly #options: SupervisorOptions;
  readonly #log: Logger;
  readonly #limiter: CountingLimiter;
  readonly #slots: Slot[] = [];
  readonly #collections = new Map<number, Collection>();
  readonly #processMetrics = createProcessMetrics();
  readonly #closed = new Set<number>();
  /**
   * Every worker's message budgets per address, in memory they share; made
   * once, so that a replaced worker finds the budgets where they were.
   */
  readonly #rateTable = createSharedBucketTable();
  #allClosed = Promise.withResolvers<void>();
  #nextCollection = 1;
  #port = 0;
  /** Set once every first worker listens: from then on, dead ones are replaced. */
  #running = false;
  #stopping = false;
  #replacements = new Set<ReturnType<typeof setTimeout>>();

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#limiter = new CountingLimiter(connectionLimits(options.config));
  }

  /** Workers serving now. */
  get serving(): number {
    return this.#slots.filter((slot) => slot.state === "serving").length;
  }

  /**
   * Starts the workers: the first binds the port (resolving port 0), the
   * others join it. Rejects with {@linkcode StartupError} when one cannot
   * start; the ones already started are stopped.
   */
  async start(): Promise<{ hostname: string; port: number }> {
    const { workers, port } = this.#options.config;
    try {
      const first = this.#spawn(0, port);
      const address = await first.started.promise;
      this.#port = address.port;
      const rest = Array.from(
        { length: workers - 1 },
        (_, i) => this.#spawn(i + 1, this.#port),
      );
      await Promise.all(rest.map((slot) => slot.started.promise));
      this.#running = true;
      return address;
    } catch (error) {
      for (const slot of this.#slots) this.#discard(slot);
      throw error;
    }
  }

  /**
   * Asks every worker to close its sockets with 1001 and leave presence,
   * and waits for them until `deadlineMs`; then ends them all. Returns
   * whether every worker finished in time.
   */
  async shutdown(deadlineMs: number): Promise<boolean> {
    this.#stopping = true;
    for (const timer of this.#replacements) clearTimeout(timer);
    this.#replacements.clear();
    for (const slot of this.#slots) {
      if (slot.state === "serving" || slot.state === "starting") {
        slot.state = "stopping";
        this.#send(slot, { type: "shutdown" });
      } else {
        this.#closed.add(slot.index);
      }
    }
    this.#checkAllClosed();
    const inTime = await finishedWithin(this.#allClosed.promise, deadlineMs);
    for (const slot of this.#slots) this.#discard(slot);
    return inTime;
  }

  /** Test hook: makes worker `index` throw an uncaught error. */
  crash(index: number): void {
    const slot = this.#slots[index];
    if (slot && this.#options.testHooks) this.#send(slot, { type: "crash" });
  }

  #spawn(index: number, port: number): Slot {
    const worker = new Worker(this.#options.moduleUrl, {
      type: "module",
      name: `chat-worker-${index}`,
    });
    const slot: Slot = {
      index,
      worker,
      startedAt: Date.now(),
      node: undefined,
      held: new Map(),
      state: "starting",
      started: Promise.withResolvers(),
    };
    this.#slots[index] = slot;
    worker.onmessage = (event: MessageEvent<unknown>) =>
      this.#receive(slot, event.data);
    worker.onerror = (event: ErrorEvent) => {
      // Handled here: an uncaught error in a worker must not end the process.
      event.preventDefault();
      this.#died(slot, event.message);
    };
    this.#send(slot, {
      type: "start",
      index,
      args: this.#options.args,
      port,
      testHooks: this.#options.testHooks ?? false,
      rateTable: this.#rateTable,
    });
    return slot;
  }

  #send(slot: Slot, message: ToWorker): void {
    slot.worker.postMessage(message);
  }

  #isCurrent(slot: Slot): boolean {
    return this.#slots[slot.index] === slot;
  }

  #receive(slot: Slot, data: unknown): void {
    if (!this.#isCurrent(slot)) return; // a replaced worker's last words
    const message = parseFromWorker(data);
    if (!message) {
      this.#log.error("worker.invalid_message", { worker: slot.index });
      return;
    }
    this.#handle(slot, message);
  }

  #handle(slot: Slot, message: FromWorker): void {
    switch (message.type) {
      case "listening":
        slot.node = message.node;
        if (slot.state === "starting") slot.state = "serving";
        slot.started.resolve(message);
        return;
      case "start_failed":
        slot.state = "dead";
        slot.started.reject(new StartupError(message.message));
        if (this.#running && !this.#stopping) {
          // A replacement that cannot start: keep trying, spaced out.
          this.#log.error("worker.start_failed", {
            worker: slot.index,
            reason: message.message,
          });
          this.#replaceLater(slot);
        }
        return;
      case "acquire": {
        const refusal = this.#limiter.tryAcquire(message.ip);
        if (!refusal) {
          slot.held.set(message.ip, (slot.held.get(message.ip) ?? 0) + 1);
        }
        this.#send(slot, {
          type: "acquired",
          id: message.id,
          refusal: refusal ?? null,
        });
        return;
      }
      case "release": {
        const held = slot.held.get(message.ip);
        if (held === undefined) return;
        if (held > 1) slot.held.set(message.ip, held - 1);
        else slot.held.delete(message.ip);
        this.#limiter.release(message.ip);
        return;
      }
      case "count":
        this.#send(slot, {
          type: "counted",
          id: message.id,
          connections: this.#limiter.total,
        });
        return;
      case "render":
        void this.#render().then((text) =>
          this.#send(slot, { type: "rendered", id: message.id, text })
        );
        return;
      case "snapshot": {
        const collection = this.#collections.get(message.id);
        if (!collection?.waiting.delete(slot.index)) return;
        collection.snapshots.push(message.metrics);
        if (collection.waiting.size === 0) collection.done.resolve();
        return;
      }
      case "closed":
        this.#closed.add(slot.index);
        this.#checkAllClosed();
        return;
    }
  }

  #checkAllClosed(): void {
    if (this.#slots.every((slot) => this.#closed.has(slot.index))) {
      this.#allClosed.resolve();
    }
  }

  /** Gathers every serving worker's snapshot and merges them. */
  async #render(): Promise<string> {
    const id = this.#nextCollection++;
    const serving = this.#slots.filter((slot) => slot.state === "serving");
    const collection: Collection = {
      waiting: new Set(serving.map((slot) => slot.index)),
      snapshots: [],
      done: Promise.withResolvers(),
    };
    this.#collections.set(id, collection);
    for (const slot of serving) this.#send(slot, { type: "collect", id });
    await finishedWithin(collection.done.promise, COLLECT_TIMEOUT_MS);
    this.#collections.delete(id);
    if (collection.waiting.size > 0) {
      this.#log.warn("metrics.workers_missing", {
        workers: [...collection.waiting],
      });
    }
    // The process series come from here alone, after the workers' series.
    let own: MetricsSnapshot = [];
    try {
      own = await this.#processMetrics.snapshot();
    } catch (error) {
      // The workers' series are worth answering with.
      this.#log.error("metrics.process_failed", { error });
    }
    return expositionText(mergeSnapshots([...collection.snapshots, own]));
  }

  /** A worker threw an uncaught error: give back its places, replace it. */
  #died(slot: Slot, reason: string): void {
    if (!this.#isCurrent(slot) || slot.state === "dead") return;
    const wasStarting = slot.state === "starting";
    slot.state = "dead";
    slot.worker.terminate();
    for (const [ip, count] of slot.held) {
      for (let i = 0; i < count; i++) this.#limiter.release(ip);
    }
    slot.held.clear();
    this.#log.error("worker.died", { worker: slot.index, reason });
    if (wasStarting) {
      slot.started.reject(
        new StartupError(`worker ${slot.index} failed to start: ${reason}`),
      );
    }
    if (this.#stopping) {
      this.#closed.add(slot.index);
      this.#checkAllClosed();
      return;
    }
    const survivor = this.#slots.find((other) => other.state === "serving");
    if (slot.node && survivor) {
      this.#send(survivor, { type: "forget_node", node: slot.node });
    }
    if (this.#running) this.#replaceLater(slot);
  }

  /**
   * Starts a new worker in `slot`, at once unless it just failed; `waited`
   * when it was put off for want of descriptors already (said once).
   */
  #replaceLater(
    dead: Pick<Slot, "index" | "startedAt">,
    waited = false,
  ): void {
    const wait = Math.max(0, dead.startedAt + RESTART_SPACING_MS - Date.now());
    const timer = setTimeout(() => {
      this.#replacements.delete(timer);
      if (this.#stopping) return;
      // A thread started with no descriptor free ends the process (see
      // platform/descriptors.ts): in a connection flood, wait for it to pass.
      if (!descriptorsFree(THREAD_DESCRIPTORS)) {
        if (!waited) {
          this.#log.warn("worker.start_deferred", {
            worker: dead.index,
            reason: "no file descriptors free; trying again every second",
          });
        }
        this.#replaceLater({ index: dead.index, startedAt: Date.now() }, true);
        return;
      }
      let slot: Slot;
      try {
        slot = this.#spawn(dead.index, this.#port);
      } catch (error) {
        // Starting a thread can fail too (out of file descriptors in a
        // flood); the main thread must not, so it tries again later.
        this.#log.error("worker.spawn_failed", { worker: dead.index, error });
        this.#replaceLater({ index: dead.index, startedAt: Date.now() });
        return;
      }
      // Its failures are logged and retried by the message handlers.
      slot.started.promise.then(
        () => this.#log.info("worker.replaced", { worker: slot.index }),
        () => {},
      );
    }, wait);
    this.#replacements.add(timer);
  }

  #discard(slot: Slot): void {
    slot.state = "dead";
    slot.worker.terminate();
  }
}
