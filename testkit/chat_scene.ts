/**
 * A lived-in chat for audits and screenshots: a server of its own, a room
 * where three people talk in the visitor's language (their own messages
 * among them, an emoji, a join), a second room with someone in it for the
 * index page, and the visitor's page open on the first room.
 *
 * @module
 */

import type { Browser } from "playwright-core";
import {
  type ChatPage,
  type Locale,
  openChatPage,
  roomPath,
  send,
  type Viewport,
  waitForMessage,
  waitUntilConnected,
} from "./chat_page.ts";
import { startServer, type TestServer } from "./server.ts";
import { TestClient } from "./test_client.ts";

interface Script {
  readonly room: string;
  readonly otherRoom: string;
  readonly me: string;
  readonly friends: readonly [string, string, string];
  /** Who says what, in order; `me` is the visitor typing in the page. */
  readonly lines: readonly (readonly [who: 0 | 1 | "me", text: string])[];
}

const SCRIPTS: Record<Locale, Script> = {
  "en-US": {
    room: "launch-team",
    otherRoom: "design",
    me: "Alex",
    friends: ["Jun", "Priya", "Sam"],
    lines: [
      [0, "Morning! Is the release still on for 3 pm?"],
      [1, "Yes, I'll post the checklist here in a minute 📋"],
      ["me", "Great, I'll take the database migration."],
      ["me", "Should be done in twenty minutes."],
      [0, "👍 thanks, Alex!"],
    ],
  },
  "ko-KR": {
    room: "출시-준비",
    otherRoom: "디자인",
    me: "지우",
    friends: ["준", "서연", "하늘"],
    lines: [
      [0, "좋은 아침이에요! 오늘 3시 배포 그대로 진행하나요?"],
      [1, "네, 체크리스트는 곧 여기에 올릴게요 📋"],
      ["me", "좋아요, 데이터베이스 마이그레이션은 제가 맡을게요."],
      ["me", "20분이면 끝날 것 같아요."],
      [0, "👍 고마워요, 지우 님!"],
    ],
  },
};

/** A server, the people in it, and the visitor's page on the room. */
export interface ChatScene extends AsyncDisposable {
  readonly server: TestServer;
  readonly room: string;
  readonly visitor: ChatPage;
  /** Stops the server, leaving the page to show it is disconnected. */
  stopServer(): Promise<void>;
}

/**
 * Opens the scene for a visitor with `locale` and `viewport`, and waits
 * until the page shows the whole conversation.
 */
export async function openChatScene(
  browser: Browser,
  options: { readonly locale: Locale; readonly viewport: Viewport },
): Promise<ChatScene> {
  const script = SCRIPTS[options.locale];
  const server = await startServer();
  let serverStopped = false;
  const stopServer = async () => {
    if (serverStopped) return;
    serverStopped = true;
    await server[Symbol.asyncDispose]();
  };
  const people: TestClient[] = [];
  let visitor: ChatPage | undefined;
  const join = async (room: string, name: string) => {
    const person = await TestClient.join(
      server.wsUrl(
        `/ws/chat/${encodeURIComponent(room)}/?name=${
          encodeURIComponent(name)
        }`,
      ),
    );
    people.push(person);
    return person;
  };
  const dispose = async () => {
    await visitor?.[Symbol.asyncDispose]();
    for (const person of people) await person.close();
    await stopServer();
  };
  try {
    const [first, second, late] = script.friends;
    const friends = [
      await join(script.room, first),
      await join(script.room, second),
    ] as const;
    await join(script.otherRoom, late);
    // What was said before the visitor came is history; the rest is live.
    const firstMine = script.lines.findIndex(([who]) => who === "me");
    const before = script.lines.slice(0, firstMine);
    for (const [who, text] of before) {
      if (who !== "me") friends[who].send({ message: text });
    }
    await friends[0].waitForType("message", before.length);
    visitor = await openChatPage(browser, { ...options, name: script.me });
    const { page } = visitor;
    await page.goto(`${server.origin}${roomPath(script.room)}`);
    await waitUntilConnected(page);
    for (const [who, text] of script.lines.slice(firstMine)) {
      if (who === "me") await send(page, text);
      else friends[who].send({ message: text });
      await waitForMessage(page, text);
    }
    // Someone comes in while the visitor is here: a presence line.
    await join(script.room, late);
    await page.locator("#chat-users li bdi", { hasText: late }).waitFor({
      state: "attached",
    });
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    server,
    room: script.room,
    visitor,
    stopServer,
    [Symbol.asyncDispose]: dispose,
  };
}
