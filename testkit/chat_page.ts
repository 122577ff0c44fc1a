/**
 * Opening the chat pages in Chromium as a given person would see them: a
 * viewport (desktop or phone), a language and a colour scheme, with the
 * page's script errors collected for a final check. Only locators and
 * string expressions reach into the page: the tests are type-checked
 * without the DOM library.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";

/** Where an element is drawn, in CSS pixels. */
type Box = NonNullable<Awaited<ReturnType<Locator["boundingBox"]>>>;

/** A viewport size in CSS pixels. */
export interface Viewport {
  readonly width: number;
  readonly height: number;
}

/** A desktop browser window. */
export const DESKTOP: Viewport = { width: 1280, height: 800 };
/** A small phone, held upright. */
export const PHONE: Viewport = { width: 375, height: 740 };

/** The languages the pages speak. */
export type Locale = "en-US" | "ko-KR";
/** `prefers-color-scheme`. */
export type ColorScheme = "light" | "dark";

/** Every way the pages are audited and photographed: scheme, device, language. */
export const COLOR_SCHEMES: readonly ColorScheme[] = ["light", "dark"];
export const DEVICES = [["desktop", DESKTOP], ["phone", PHONE]] as const;
export const LOCALES: readonly Locale[] = ["en-US", "ko-KR"];

/** How a person sees the pages. */
export interface Visitor {
  /** @default "en-US" */
  readonly locale?: Locale;
  /** @default DESKTOP */
  readonly viewport?: Viewport;
  /** @default "light" */
  readonly colorScheme?: ColorScheme;
  /** A name remembered from an earlier visit (localStorage "chat.name"). */
  readonly name?: string;
}

/** Bob reading in Korean on a phone, the other side of a desktop's chat. */
export const BOB_ON_A_PHONE: Visitor = {
  name: "Bob",
  viewport: PHONE,
  locale: "ko-KR",
};

/** A page in its own browser context, and what went wrong in it. */
export interface ChatPage extends AsyncDisposable {
  readonly page: Page;
  readonly context: BrowserContext;
  /**
   * Console errors and uncaught exceptions, except failed WebSocket
   * connections (expected while a server is down).
   */
  readonly problems: string[];
}

/**
 * A new browser context and page for `visitor`: its viewport (a phone
 * viewport is a touch screen that honours `<meta name="viewport">`), its
 * language (`locale` and `Accept-Language`) and its colour scheme.
 */
export async function openChatPage(
  browser: Browser,
  visitor: Visitor = {},
): Promise<ChatPage> {
  const locale = visitor.locale ?? "en-US";
  const viewport = visitor.viewport ?? DESKTOP;
  const phone = viewport.width < 600;
  const context = await browser.newContext({
    locale,
    extraHTTPHeaders: { "Accept-Language": `${locale},${locale.slice(0, 2)}` },
    viewport: { ...viewport },
    colorScheme: visitor.colorScheme ?? "light",
    isMobile: phone,
    hasTouch: phone,
    deviceScaleFactor: phone ? 2 : 1,
  });
  if (visitor.name !== undefined) {
    // Evaluated through the DevTools protocol, so not an inline script.
    await context.addInitScript(
      `localStorage.setItem("chat.name", ${JSON.stringify(visitor.name)});`,
    );
  }
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const text = message.text();
    if (/WebSocket connection .* failed|ERR_CONNECTION_REFUSED/.test(text)) {
      return;
    }
    problems.push(text);
  });
  page.on("pageerror", (error) => problems.push(error.message));
  return {
    page,
    context,
    problems,
    async [Symbol.asyncDispose]() {
      await context.close();
    },
  };
}

/**
 * `visitor`'s page open on `room` of the server at `origin`, once its socket
 * is connected.
 */
export async function openRoom(
  browser: Browser,
  origin: string,
  room: string,
  visitor: Visitor = {},
): Promise<ChatPage> {
  const opened = await openChatPage(browser, visitor);
  try {
    await opened.page.goto(`${origin}${roomPath(room)}`);
    await waitUntilConnected(opened.page);
  } catch (error) {
    await opened[Symbol.asyncDispose]();
    throw error;
  }
  return opened;
}

/**
 * People who open one room, each in a browser context of their own, and
 * are all closed together, the last to come first:
 * `await using people = new RoomVisitors(browser, origin, room)`, then
 * `const alice = await people.join({ name: "Alice" })`.
 */
export class RoomVisitors implements AsyncDisposable {
  readonly #browser: Browser;
  readonly #origin: string;
  readonly #room: string;
  readonly #pages: ChatPage[] = [];

  constructor(browser: Browser, origin: string, room: string) {
    this.#browser = browser;
    this.#origin = origin;
    this.#room = room;
  }

  /** `visitor`'s page, open on the room with its socket connected. */
  async join(visitor: Visitor): Promise<ChatPage> {
    const page = await openRoom(
      this.#browser,
      this.#origin,
      this.#room,
      visitor,
    );
    this.#pages.push(page);
    return page;
  }

  /** What went wrong in any of their pages (see {@linkcode ChatPage}). */
  get problems(): string[] {
    return this.#pages.flatMap((page) => page.problems);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (let page = this.#pages.pop(); page; page = this.#pages.pop()) {
      await page[Symbol.asyncDispose]();
    }
  }
}

/** Alice on a desktop in English and {@linkcode BOB_ON_A_PHONE}, in one room. */
export interface AliceAndBob extends AsyncDisposable {
  readonly alice: ChatPage;
  readonly bob: ChatPage;
}

/** Opens Alice's page, then Bob's, on `room`; closes both when disposed. */
export async function openAliceAndBob(
  browser: Browser,
  origin: string,
  room: string,
): Promise<AliceAndBob> {
  const alice = await openRoom(browser, origin, room, { name: "Alice" });
  try {
    const bob = await openRoom(browser, origin, room, BOB_ON_A_PHONE);
    return {
      alice,
      bob,
      async [Symbol.asyncDispose]() {
        await bob[Symbol.asyncDispose]();
        await alice[Symbol.asyncDispose]();
      },
    };
  } catch (error) {
    await alice[Symbol.asyncDispose]();
    throw error;
  }
}

/** The box of `selector`, which must be displayed. */
export async function box(page: Page, selector: string): Promise<Box> {
  const found = await page.locator(selector).boundingBox();
  assert.ok(found, `${selector} is displayed`);
  return found;
}

/** Sends `text` from the page's composer and waits until the log shows it. */
export async function say(page: Page, text: string): Promise<void> {
  await send(page, text);
  await waitForMessage(page, text);
}

/** A regular expression matching exactly `text`. */
export function exactly(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

/** The room page's URL path for `room`. */
export function roomPath(room: string): string {
  return `/chat/${encodeURIComponent(room)}/`;
}

/** The message line of `page` whose text holds `text` (or matches it). */
export const messageLine = (page: Page, text: string | RegExp): Locator =>
  page.locator("#chat-log li.message", {
    has: page.locator(".text", { hasText: text }),
  });

/** Waits until the log shows a message whose text is exactly `text`. */
export async function waitForMessage(page: Page, text: string): Promise<void> {
  await page.locator("#chat-log li.message:not(.pending) .text", {
    hasText: exactly(text),
  }).first().waitFor();
}

/** How many log lines show a message whose text is exactly `text`. */
export async function countMessages(page: Page, text: string): Promise<number> {
  return await page.locator("#chat-log li.message .text", {
    hasText: exactly(text),
  }).count();
}

/** Waits until the page is connected and knows who it is. */
export async function waitUntilConnected(page: Page): Promise<void> {
  await page.locator("#chat-users li.me").waitFor({ state: "attached" });
  await page.locator("#chat-status").waitFor({ state: "hidden" });
}

/** The page's own name, as its header shows it (`#chat-my-name`). */
export async function myName(page: Page): Promise<string> {
  return await page.locator("#chat-my-name bdi").textContent() ?? "";
}

/** The names in the Online list, sorted. */
export async function onlineNames(page: Page): Promise<string[]> {
  const names = await page.locator("#chat-users li bdi").allTextContents();
  return names.sort();
}

/** Types `text` into the composer and presses Enter. */
export async function send(page: Page, text: string): Promise<void> {
  await page.fill("#chat-message-input", text);
  await page.press("#chat-message-input", "Enter");
}

/** The `id` of the focused element, or "" for none. */
export async function focusedId(page: Page): Promise<string> {
  return String(await page.evaluate("document.activeElement?.id ?? ''"));
}

/** `document.documentElement.scrollWidth`: wider than the viewport scrolls. */
export async function documentWidth(page: Page): Promise<number> {
  return Number(await page.evaluate("document.documentElement.scrollWidth"));
}

/**
 * Whether the string expression `condition` comes to hold in the page
 * within `timeoutMs`, checked once per rendered frame. (Playwright's
 * `waitForFunction` with a string needs `eval`, which the pages' policy
 * forbids; `evaluate` goes through DevTools instead.)
 */
export async function holdsWithin(
  page: Page,
  condition: string,
  timeoutMs = 5000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const nextFrame = `new Promise((resolve) =>
    requestAnimationFrame(() => resolve(Boolean(${condition})))
  )`;
  while (true) {
    if (await page.evaluate(nextFrame) === true) return true;
    if (Date.now() > deadline) return false;
  }
}

/**
 * A page's problems but the refusal it was shown: the client asks the
 * socket's address why it never opened (a ban, a refused token), and
 * Chromium logs that 401 or 403.
 */
export function problemsBesidesRefusal(problems: readonly string[]): string[] {
  return problems.filter((problem) =>
    !/^Failed to load resource: .* (401|403) /.test(problem)
  );
}
