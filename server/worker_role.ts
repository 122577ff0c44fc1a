/**
 * A worker of `--workers N`: the entry module (`main.ts`) started again
 * inside a Worker, so that the worker's code is part of the same module
 * graph, bundle and compiled binary. It parses the same command line, binds
 * the shared port with `reusePort`, and asks the main thread for what the
 * whole process shares: connection counts and metrics.
 *
 * @module
 */

import { type ChatServer, createChatServer, type WorkerPeers } from "./app.ts";
import { warmUpStackTraces } from "../platform/descriptors.ts";
import { createLogger, type Logger } from "../observability/log.ts";
import type { Refusal } from "../http/connections.ts";
import {
  listenerEvents,
  type ResilientListener,
  serveResiliently,
} from "./listen.ts";
import { startupFailure } from "./startup_failure.ts";
import { loadConfig } from "./settings.ts";
import { shutDownServer } from "./shutdown.ts";
import {
  type FromWorker,
  parseToWorker,
  type ToWorker,
} from "./worker_messages.ts";

/** The scope of a Worker, as far as this module uses it. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<unknown>) => void) | null;
  postMessage(message: FromWorker): void;
}

/** The Worker scope this code runs in, or undefined on the main thread. */
export function workerScope(): WorkerScope | undefined {
  const scope: unknown = globalThis;
  // Deno defines WorkerGlobalScope inside workers only.
  const workerGlobal: unknown = Reflect.get(globalThis, "WorkerGlobalScope");
  const inWorker = typeof workerGlobal === "function" &&
    scope instanceof workerGlobal;
  return inWorker && isWorkerScopeShape(scope) ? scope : undefined;
}

function isWorkerScopeShape(scope: unknown): scope is WorkerScope {
  return typeof scope === "object" && scope !== null &&
    "onmessage" in scope && "postMessage" in scope &&
    typeof scope.postMessage === "function";
}

/** Requests to the main thread that wait for an answer, by id. */
class PendingAnswers<T> {
  readonly #waiting = new Map<number, (value: T) => void>();
  #next = 1;

  ask(send: (id: number) => void): Promise<T> {
    const id = this.#next++;
    const { promise, resolve } = Promise.withResolvers<T>();
    this.#waiting.set(id, resolve);
    send(id);
    return promise;
  }

  answer(id: number, value: T): void {
    const resolve = this.#waiting.get(id);
    this.#waiting.delete(id);
    resolve?.(value);
  }
}

/** Serves as one worker; called at the top of the entry module. */
export function runWorker(scope: WorkerScope): void {
  warmUpStackTraces();
  const post = (message: FromWorker) => scope.postMessage(message);
  const acquired = new PendingAnswers<Refusal | null>();
  const counted = new PendingAnswers<number>();
  const rendered = new PendingAnswers<string>();
  let running:
    | { chat: ChatServer; listener: ResilientListener }
    | undefined;
  let log: Logger = createLogger();
  let testHooks = false;

  const peers: Omit<WorkerPeers, "rateTable"> = {
    limiter: {
      acquire: async (ip) =>
        await acquired.ask((id) => post({ type: "acquire", id, ip })) ??
          undefined,
      release: (ip) => post({ type: "release", ip }),
    },
    connectionCount: () => counted.ask((id) => post({ type: "count", id })),
    renderMetrics: () => rendered.ask((id) => post({ type: "render", id })),
  };

  let stopping = false;
  const start = async (message: Extract<ToWorker, { type: "start" }>) => {
    testHooks = message.testHooks;
    try {
      const config = {
        ...loadConfig(message.args, (name) => Deno.env.get(name)),
        port: message.port,
      };
      log = createLogger({
        level: config.logLevel,
        fields: { worker: message.index },
      });
      const chat = await createChatServer({
        config,
        log,
        peers: { ...peers, rateTable: message.rateTable, index: message.index },
      });
      if (stopping) {
        // Told to stop while the store was still opening.
        await chat.close();
        return;
      }
      let listener: ResilientListener;
      try {
        listener = serveResiliently(
          {
            host: config.host,
            port: config.port,
            reusePort: true,
          },
          chat.fetch,
          listenerEvents(log),
        );
      } catch (error) {
        void chat.close();
        throw error;
      }
      running = { chat, listener };
      post({
        type: "listening",
        hostname: listener.address.hostname,
        port: listener.address.port,
        node: chat.hub.node,
      });
    } catch (error) {
      const failure = startupFailure(error);
      if (!failure) throw error;
      // The main thread prints it as the process's one `Cannot start:` line.
      post({ type: "start_failed", message: failure.message });
    }
  };

  const stop = async () => {
    stopping = true;
    if (running) {
      await shutDownServer(running.chat, running.listener);
    }
    post({ type: "closed" });
  };

  scope.onmessage = (event) => {
    const message = parseToWorker(event.data);
    if (!message) {
      log.error("worker.invalid_message", { kind: typeof event.data });
      return;
    }
    switch (message.type) {
      case "start":
        return start(message);
      case "acquired":
        return acquired.answer(message.id, message.refusal);
      case "counted":
        return counted.answer(message.id, message.connections);
      case "rendered":
        return rendered.answer(message.id, message.text);
      case "collect":
        if (!running) return;
        void running.chat.metricsSnapshot().then((metrics) =>
          post({ type: "snapshot", id: message.id, metrics })
        );
        return;
      case "forget_node":
        running?.chat.hub.forgetNode(message.node).catch((error) =>
          log.error("worker.forget_node_failed", { node: message.node, error })
        );
        return;
      case "shutdown":
        stop().catch((error) => {
          log.error("worker.shutdown_failed", { error });
          post({ type: "closed" });
        });
        return;
      case "crash":
        if (!testHooks) return;
        setTimeout(() => {
          throw new Error("Worker crashed on request of the test hook");
        });
        return;
    }
  };
}
