/**
 * A Node 22 script that posts one message to a room and exits. In a
 * project that installed the client (`npm install deno-chat-client-*.tgz`):
 *
 *   node post.mjs https://chat.example lobby "The build is green"
 *
 * Exits 0 once the message is stored, 1 when the server refused it.
 */

import { ChatClient } from "deno-chat-client";

const [url, room, ...words] = process.argv.slice(2);
if (!url || !room || words.length === 0) {
  console.error("Usage: node post.mjs <server> <room> <message…>");
  process.exit(2);
}

const chat = new ChatClient(url, { room, name: "ci-bot" });
// A refusal that a retry cannot change (name taken, removed, forbidden):
// closing rejects the waiting send, so the script ends instead of waiting.
chat.addEventListener("state", (event) => {
  if (event.detail.state === "closed" && event.detail.reason) {
    console.error(`Refused (${event.detail.code}): ${event.detail.reason}`);
    chat.close();
  }
});

try {
  const stored = await chat.send(words.join(" "));
  console.log(`Posted #${stored.id} in ${room} as ${stored.user}`);
} catch (error) {
  console.error(`Not posted: ${error.code ?? ""} ${error.message}`);
  process.exitCode = 1;
} finally {
  chat.close();
}
