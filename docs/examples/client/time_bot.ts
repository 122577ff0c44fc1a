/**
 * A Deno bot that answers `!time` in a room with the time at the server it
 * runs on. Run it with:
 *
 *   CHAT_URL=https://chat.example CHAT_ROOM=lobby \
 *     deno run --allow-net --allow-env=CHAT_URL,CHAT_ROOM time_bot.ts
 *
 * @module
 */

// deno-lint-ignore no-import-prefix -- the library comes from the chat server
import { ChatClient } from "https://chat.example/client.js";

const url = Deno.env.get("CHAT_URL") ?? "https://chat.example";
const room = Deno.env.get("CHAT_ROOM") ?? "lobby";
const bot = new ChatClient(url, { room, name: "time-bot" });

// The first history is what was said before the bot came: not for it.
// After a reconnect, the history holds what it missed: it answers those.
let live = false;

bot.addEventListener("state", (event) => {
  const { state, code, reason } = event.detail;
  if (state === "open") {
    live = true;
    console.log(`Answering !time in ${room} as ${bot.you}`);
  } else if (state === "closed" && reason) {
    console.error(`Stopped (${code}): ${reason}`);
  }
});

bot.addEventListener("message", async (event) => {
  const { user, message } = event.detail;
  if (!live || user === bot.you || message.trim() !== "!time") return;
  try {
    await bot.send(`${user}: it is ${new Date().toISOString()}`);
  } catch (error) {
    console.error(`Could not answer ${user}: ${error}`);
  }
});

Deno.addSignalListener("SIGINT", () => {
  bot.close();
  Deno.exit(0);
});
