/** The admin console in Chromium: signing in with the API key. @module */

import type { Browser, Page } from "playwright-core";
import { type ChatPage, openChatPage, type Visitor } from "./chat_page.ts";

/** Types `key` into the console's sign-in form at `origin` and sends it. */
export async function signInWithKey(
  page: Page,
  origin: string,
  key: string,
): Promise<void> {
  await page.goto(`${origin}/admin/`);
  await page.fill("#admin-key", key);
  await page.click("#admin-signin button[type=submit]");
}

/** A console tab signed in with `key`, once its overview shows numbers. */
export async function signedInConsole(
  browser: Browser,
  origin: string,
  key: string,
  visitor: Visitor = {},
): Promise<ChatPage> {
  const tab = await openChatPage(browser, visitor);
  try {
    await signInWithKey(tab.page, origin, key);
    await tab.page.locator("#ov-connections", { hasText: /^\d+$/ }).waitFor();
  } catch (error) {
    await tab[Symbol.asyncDispose]();
    throw error;
  }
  return tab;
}
