/**
 * Write-ahead-log checkpoints off the event loop. SQLite copies the log into
 * the database file by itself once it holds 1000 pages, inside whichever
 * commit crosses the mark, and ends with an fsync: that stalls the event
 * loop for 50-100 ms every few seconds under steady traffic (the paced
 * benchmark's p99 is 60 ms that way, 1 ms with this thread). Here a Worker
 * with a connection of its own copies the log a second after a write, or at
 * once when much was written, so that the log never reaches SQLite's mark
 * and a commit never waits for a disk (nor does the commit that starts the
 * copied log over: {@linkcode CheckpointerOptions.onLogCopied} lets the
 * owner do that between messages). SQLite's own checkpoint stays on as
 * the safety net: should the thread fail or fall behind, commits checkpoint
 * themselves. Durability is SQLite's WAL with `synchronous = NORMAL`; the
 * thread only moves the copying off the commit.
 *
 * Keeping the log short matters for a full disk too: copying the log into
 * the file needs as much free space as the log holds, so recovery after a
 * full disk needs only a second's or {@linkcode EAGER_BYTES}' worth.
 *
 * The thread starts with the checkpointer, when the store opens, and runs
 * until it is closed; while nothing is written it sleeps, waiting for a
 * message. It costs an isolate (about 13 MiB resident), for a reason:
 * starting a thread needs file descriptors, and one started during a
 * connection flood that took them all would end the process (see
 * platform/descriptors.ts). Should it die, it is started again only when
 * descriptors are free; meanwhile SQLite checkpoints by itself.
 *
 * @module
 */

import {
  descriptorsFree,
  THREAD_DESCRIPTORS,
} from "../../platform/descriptors.ts";
import { finishedWithin } from "../../platform/deadline.ts";
import { realSchedule, type Schedule } from "../../chat/presence_batch.ts";
import workerSource from "./checkpoint_worker.js" with { type: "text" };

/** At most this long (ms) between a write and the checkpoint that copies it. */
export const CHECKPOINT_DELAY_MS = 1000;
/** A checkpoint starts at once when about this many bytes were written. */
export const EAGER_BYTES = 256 * 1024;
/**
 * How long (ms) closing waits for the thread to close its connection (a
 * checkpoint in flight ends first, its fsync included) before ending the
 * thread where it stands: well inside the server's shutdown grace.
 */
export const CLOSE_WAIT_MS = 2000;

/** What one checkpoint did, in pages of the log. */
export interface CheckpointResult {
  /** Pages in the log. */
  readonly log: number;
  /** Of those, pages now in the database file. */
  readonly checkpointed: number;
}

/** Options for {@linkcode Checkpointer}. */
export interface CheckpointerOptions {
  /** The database file. */
  readonly path: string;
  /**
   * Checkpoints began to fail (with the reason: a full disk, a file it
   * cannot open, its thread died and cannot start again yet) or work again
   * (undefined). Called on each change only, so a lasting failure is told
   * once. A failed checkpoint is tried again after
   * {@linkcode CheckpointerOptions.delayMs}.
   */
  readonly onTrouble: (reason: string | undefined) => void;
  /**
   * A checkpoint copied the whole log and nothing was written since it
   * began: the owner starts the log over now, between messages, rather
   * than in the next message's commit (sqlite_database.ts says why). What
   * it throws counts as the checkpoint's failure: told through `onTrouble`
   * and tried again.
   */
  readonly onLogCopied?: () => void;
  /** @default CHECKPOINT_DELAY_MS */
  readonly delayMs?: number;
  /** @default EAGER_BYTES */
  readonly eagerBytes?: number;
  /** Timers, unref'd. @default realSchedule */
  readonly schedule?: Schedule;
}

type FromWorker =
  | {
    readonly type: "checkpointed";
    readonly id: number;
    readonly log: number;
    readonly checkpointed: number;
  }
  | { readonly type: "failed"; readonly id?: number; readonly message: string }
  | { readonly type: "opened" }
  | { readonly type: "closed" };

function parseFromWorker(data: unknown): FromWorker | undefined {
  if (typeof data !== "object" || data === null || !("type" in data)) {
    return undefined;
  }
  if (data.type === "closed") return { type: "closed" };
  if (data.type === "opened") return { type: "opened" };
  if (
    data.type === "checkpointed" && "id" in data &&
    typeof data.id === "number" && "log" in data &&
    typeof data.log === "number" && "checkpointed" in data &&
    typeof data.checkpointed === "number"
  ) {
    return {
      type: "checkpointed",
      id: data.id,
      log: data.log,
      checkpointed: data.checkpointed,
    };
  }
  if (
    data.type === "failed" && "message" in data &&
    typeof data.message === "string"
  ) {
    const id = "id" in data && typeof data.id === "number"
      ? { id: data.id }
      : {};
    return { type: "failed", message: data.message, ...id };
  }
  return undefined;
}

/** The checkpoint thread, from start until closed or dead. */
interface Thread {
  readonly worker: Worker;
  readonly waiting: Map<number, PromiseWithResolvers<CheckpointResult>>;
  /** Resolves once the thread has tried to open its connection, or died. */
  readonly started: PromiseWithResolvers<void>;
  /** Resolves once the thread has closed its connection, or died. */
  readonly ended: PromiseWithResolvers<void>;
}

/**
 * Checkpoints one database file from a thread of its own, started by the
 * constructor. The owner tells it of every write
 * ({@linkcode Checkpointer.wrote}) and closes it, and waits for that,
 * before it closes the database's last connection.
 */
export class Checkpointer implements AsyncDisposable {
  readonly #options: CheckpointerOptions;
  readonly #delayMs: number;
  readonly #eagerBytes: number;
  readonly #schedule: Schedule;
  #thread: Thread | undefined;
  #nextId = 1;
  #closed = false;
  #failing = false;
  /** Bytes written since the last checkpoint began. */
  #unwritten = 0;
  /** Whether anything was written since the last checkpoint began. */
  #dirty = false;
  /** The checkpoint in flight, so that they never pile up. */
  #running: Promise<unknown> | undefined;
  /** Cancels the next checkpoint, while one is due. */
  #due: (() => void) | undefined;

  constructor(options: CheckpointerOptions) {
    this.#options = options;
    this.#delayMs = options.delayMs ?? CHECKPOINT_DELAY_MS;
    this.#eagerBytes = options.eagerBytes ?? EAGER_BYTES;
    this.#schedule = options.schedule ?? realSchedule;
    this.#thread = this.#start();
  }

  /**
   * Resolves once the thread runs and has tried to open its connection
   * (whether it could is told through `onTrouble`); never rejects. A
   * server waits for it before it listens, so that no thread is still
   * starting when a flood of connections arrives.
   */
  get started(): Promise<void> {
    return this.#thread?.started.promise ?? Promise.resolve();
  }

  /** Whether the thread is running (until closed, or dead). */
  get running(): boolean {
    return this.#thread !== undefined;
  }

  /** A write of about `bytes` bytes was committed. */
  wrote(bytes: number): void {
    if (this.#closed) return;
    this.#dirty = true;
    this.#unwritten += bytes;
    if (this.#unwritten >= this.#eagerBytes && !this.#running) {
      this.#clearDue();
      this.#startPeriodic();
    } else {
      this.#checkpointLater();
    }
  }

  /** Checkpoints now; resolves with what it did. */
  checkpoint(): Promise<CheckpointResult> {
    if (this.#closed) {
      return Promise.reject(new Error("The checkpointer is closed"));
    }
    const thread = this.#thread ?? this.#restart();
    if (!thread) {
      return Promise.reject(
        new Error(
          "The SQLite checkpoint thread died, and no file descriptor is free to start it again",
        ),
      );
    }
    const id = this.#nextId++;
    const pending = Promise.withResolvers<CheckpointResult>();
    thread.waiting.set(id, pending);
    thread.worker.postMessage({ type: "checkpoint", id });
    return pending.promise;
  }

  /**
   * Stops every timer and the thread: what waits on it fails at once, and
   * the promise resolves once the thread has closed its connection to the
   * file (at most {@linkcode CLOSE_WAIT_MS} later), so that nothing of it
   * touches the file afterwards. Idempotent.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#clearDue();
    return this.#stop(new Error("The checkpointer was closed"));
  }

  /** Same as {@linkcode Checkpointer.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #startPeriodic(): void {
    if (this.#running || this.#closed) return;
    const covered = this.#unwritten;
    this.#unwritten = 0;
    this.#dirty = false;
    this.#running = this.checkpoint().then((result) => {
      if (
        !this.#closed && !this.#dirty && result.log > 0 &&
        result.checkpointed === result.log
      ) this.#options.onLogCopied?.();
    }).then(
      () => this.#trouble(undefined),
      (error: unknown) => {
        // Not copied: it is still to do.
        this.#unwritten += covered;
        this.#dirty = true;
        if (!this.#closed) {
          this.#trouble(error instanceof Error ? error.message : String(error));
        }
      },
    ).finally(() => {
      this.#running = undefined;
      if (this.#closed) return;
      if (this.#unwritten >= this.#eagerBytes) {
        this.#clearDue();
        this.#startPeriodic();
      } else if (this.#dirty) {
        this.#checkpointLater();
      }
    });
  }

  /** Starts the thread again after it died, if descriptors are free. */
  #restart(): Thread | undefined {
    if (!descriptorsFree(THREAD_DESCRIPTORS)) return undefined;
    this.#thread = this.#start();
    return this.#thread;
  }

  #start(): Thread {
    const url = URL.createObjectURL(
      new Blob([workerSource], { type: "text/javascript" }),
    );
    const worker = new Worker(url, { type: "module" });
    URL.revokeObjectURL(url);
    const thread: Thread = {
      worker,
      waiting: new Map(),
      started: Promise.withResolvers(),
      ended: Promise.withResolvers(),
    };
    // Closing before the thread answered, or its death, ends the wait too.
    thread.ended.promise.then(thread.started.resolve);
    worker.onmessage = (event: MessageEvent<unknown>) => {
      const message = parseFromWorker(event.data);
      if (!message) return;
      if (message.type === "closed") {
        thread.ended.resolve();
        return;
      }
      if (message.type === "opened") {
        thread.started.resolve();
        return;
      }
      const pending = message.id === undefined
        ? undefined
        : thread.waiting.get(message.id);
      if (message.id !== undefined) thread.waiting.delete(message.id);
      if (message.type === "failed") {
        const reason = `SQLite checkpoint failed: ${message.message}`;
        if (pending) pending.reject(new Error(reason));
        else {
          // Its connection could not be opened at start; the thread opens
          // it again at the next checkpoint.
          this.#trouble(reason);
          thread.started.resolve();
        }
        return;
      }
      pending?.resolve({
        log: message.log,
        checkpointed: message.checkpointed,
      });
    };
    worker.onerror = (event) => {
      event.preventDefault();
      thread.ended.resolve();
      this.#stop(
        new Error(`SQLite checkpoint thread died: ${event.message}`),
        false,
      );
    };
    worker.postMessage({ type: "open", path: this.#options.path });
    return thread;
  }

  /**
   * Ends the thread, failing what waits on it.
   * A thread that works is asked to close its connection and end itself;
   * resolves when it has (or after {@linkcode CLOSE_WAIT_MS}, when it is
   * ended where it stands).
   */
  #stop(reason: Error, working = true): Promise<void> {
    const thread = this.#thread;
    if (!thread) return Promise.resolve();
    this.#thread = undefined;
    for (const { reject } of thread.waiting.values()) reject(reason);
    thread.waiting.clear();
    if (!working) {
      thread.worker.terminate();
      thread.ended.resolve();
      return Promise.resolve();
    }
    thread.worker.postMessage({ type: "close" });
    // A close nobody waits for must not keep a finished process alive.
    return finishedWithin(thread.ended.promise, CLOSE_WAIT_MS, { unref: true })
      .then((inTime) => {
        if (inTime) return;
        thread.worker.terminate();
        thread.ended.resolve();
      });
  }

  #trouble(reason: string | undefined): void {
    if (this.#failing === (reason !== undefined)) return;
    this.#failing = reason !== undefined;
    this.#options.onTrouble(reason);
  }

  #checkpointLater(): void {
    this.#due ??= this.#schedule(() => {
      this.#due = undefined;
      this.#startPeriodic();
    }, this.#delayMs);
  }

  #clearDue(): void {
    this.#due?.();
    this.#due = undefined;
  }
}
