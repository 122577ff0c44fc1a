/**
 * The featureless floor the chat server is measured against: `Deno.serve`,
 * `Deno.upgradeWebSocket` and a `Map` of rooms, nothing else (no storage,
 * no ids, no presence, no limits, no logging). It speaks just enough of the
 * typed wire format for the load generator: a socket that offers `chat.v1`
 * gets a `presence` frame once it is in its room (the generator's signal
 * that it may count on deliveries), and every `{"message": "..."}` it sends
 * is serialised once and sent to everyone in the room, the sender included,
 * as `{"type":"message","message":"..."}`. Any other request gets 200, so
 * that a readiness probe of `/chat/` passes.
 *
 * With `BASELINE_DB=<file>` it is the storing floor instead: the same
 * server, with each message inserted into that SQLite file (one `INSERT`
 * into a plain rowid table, no transaction of its own, no ids handed out)
 * before it is sent. The file has the chat store's settings (write-ahead
 * log, `synchronous = NORMAL`) and SQLite's own checkpoints. It is the
 * least a server that stores every message before delivering it can do
 * with SQLite, so that the chat server's cost can be told apart from the
 * cost of storing at all (docs/benchmarks.md, "Paced latency").
 *
 *     PORT=8001 deno run --allow-net --allow-env --allow-read bench/baseline_server.ts
 *     BASELINE_DB=/tmp/floor.db deno run --allow-net --allow-env --allow-read --allow-write bench/baseline_server.ts
 *
 * Prints `Baseline ready at http://127.0.0.1:<port>/` once listening, and
 * stops on SIGTERM or SIGINT, or when its parent process has gone (so that
 * a benchmark that dies leaves no server behind).
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";

const PROTOCOL = "chat.v1";
const ROOM_PATH = /^\/ws\/chat\/([^/]+)\/?$/;

/** Stores a message of a room, when this is the storing floor. */
type StoreMessage = (room: string, message: string) => void;

/** Opens `path` as the storing floor's database, or stores nothing. */
function openStore(path: string | undefined): StoreMessage {
  if (path === undefined || path === "") return () => {};
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec(
    "CREATE TABLE IF NOT EXISTS messages (room TEXT NOT NULL, message TEXT NOT NULL)",
  );
  const insert = db.prepare(
    "INSERT INTO messages (room, message) VALUES (?, ?)",
  );
  return (room, message) => {
    insert.run(room, message);
  };
}

const store = openStore(Deno.env.get("BASELINE_DB"));

/** Rooms by name; an empty room is deleted. */
const rooms = new Map<string, Set<WebSocket>>();

/** The message text of a client frame, or undefined when it has none. */
function messageOf(data: unknown): string | undefined {
  if (typeof data !== "string") return undefined;
  let frame: unknown;
  try {
    frame = JSON.parse(data);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  if (
    typeof frame === "object" && frame !== null && "message" in frame &&
    typeof frame.message === "string"
  ) {
    return frame.message;
  }
  return undefined;
}

function join(name: string, socket: WebSocket): void {
  let room = rooms.get(name);
  if (!room) {
    room = new Set();
    rooms.set(name, room);
  }
  room.add(socket);
}

function leave(name: string, socket: WebSocket): void {
  const room = rooms.get(name);
  if (!room) return;
  room.delete(socket);
  if (room.size === 0) rooms.delete(name);
}

function handle(request: Request): Response {
  const match = ROOM_PATH.exec(new URL(request.url).pathname);
  if (!match?.[1] || request.headers.get("upgrade") !== "websocket") {
    return new Response("featureless baseline\n");
  }
  const name = match[1];
  const offered = (request.headers.get("sec-websocket-protocol") ?? "")
    .split(",").map((protocol) => protocol.trim());
  const typed = offered.includes(PROTOCOL);
  const { socket, response } = Deno.upgradeWebSocket(
    request,
    typed ? { protocol: PROTOCOL } : {},
  );
  socket.onopen = () => {
    join(name, socket);
    if (typed) {
      socket.send(JSON.stringify({ type: "presence", users: [], count: 0 }));
    }
  };
  socket.onmessage = (event: MessageEvent<unknown>) => {
    const message = messageOf(event.data);
    if (message === undefined) return;
    store(name, message);
    const text = JSON.stringify({ type: "message", message });
    for (const member of rooms.get(name) ?? []) {
      if (member.readyState === WebSocket.OPEN) member.send(text);
    }
  };
  socket.onclose = () => leave(name, socket);
  socket.onerror = () => leave(name, socket);
  return response;
}

if (import.meta.main) {
  const controller = new AbortController();
  const server = Deno.serve({
    hostname: Deno.env.get("HOST") ?? "127.0.0.1",
    port: Number(Deno.env.get("PORT") ?? "8001"),
    signal: controller.signal,
    onListen: ({ hostname, port }) =>
      console.log(`Baseline ready at http://${hostname}:${port}/`),
  }, handle);
  const stop = () => controller.abort();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  // Reparented: whoever started us is gone.
  const parent = Deno.ppid;
  const watch = setInterval(() => {
    if (Deno.ppid !== parent) stop();
  }, 500);
  controller.signal.addEventListener("abort", () => {
    clearInterval(watch);
    for (const room of rooms.values()) {
      for (const socket of room) socket.close(1001, "Server stopping");
    }
    // Sockets that do not finish their close handshake must not hold the
    // process open.
    setTimeout(() => Deno.exit(0), 2000);
  });
  await server.finished;
  Deno.exit(0);
}
