/**
 * Room page: connects to the room's WebSocket (wss: under https), shows every
 * message in #chat-log through textContent only, sends on Enter or click.
 *
 * @module
 */

const room = document.getElementById("room");
const log = document.getElementById("chat-log");
const input = document.getElementById("chat-message-input");
const submit = document.getElementById("chat-message-submit");
const status = document.getElementById("chat-status");

const roomName = room.dataset.room;
const scheme = globalThis.location.protocol === "https:" ? "wss:" : "ws:";
const socketUrl = `${scheme}//${globalThis.location.host}/ws/chat/${
  encodeURIComponent(roomName)
}/`;

let socket;
let retries = 0;

function showStatus(text) {
  status.textContent = text;
  status.hidden = text === "";
}

function appendLine(text, className) {
  const item = document.createElement("li");
  if (className) item.className = className;
  item.textContent = text;
  log.append(item);
  item.scrollIntoView({ block: "end" });
}

function parseFrame(data) {
  try {
    const frame = JSON.parse(data);
    return typeof frame === "object" && frame !== null ? frame : undefined;
  } catch {
    return undefined;
  }
}

function connect() {
  showStatus(room.dataset.textConnecting);
  socket = new WebSocket(socketUrl);
  socket.addEventListener("open", () => {
    retries = 0;
    showStatus("");
  });
  socket.addEventListener("message", (event) => {
    const frame = parseFrame(event.data);
    if (!frame) return;
    if (frame.type === "message" && typeof frame.message === "string") {
      appendLine(frame.message, "message");
    } else if (frame.type === "error" && typeof frame.error === "string") {
      appendLine(frame.error, "error");
    }
  });
  socket.addEventListener("close", () => {
    showStatus(room.dataset.textDisconnected);
    // Exponential backoff with full jitter, capped at 30 s.
    const delay = Math.random() * Math.min(30_000, 500 * 2 ** retries);
    retries += 1;
    setTimeout(connect, delay);
  });
}

function send() {
  const message = input.value;
  if (message.trim() === "" || socket?.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({ type: "message", message }));
  input.value = "";
  input.focus();
}

input.focus();
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.isComposing) send();
});
submit.addEventListener("click", send);
connect();
