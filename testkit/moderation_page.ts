/**
 * The room page as a moderator uses it, for the browser tests of
 * moderation: a page signed in with a moderator's token, the lines of the
 * log and of the Online list, the dialog to mute or ban, and the list of
 * who is muted or banned.
 *
 * @module
 */

import type { Browser, Locator, Page } from "playwright-core";
import {
  type ChatPage,
  exactly,
  messageLine,
  openChatPage,
  roomPath,
  type Visitor,
  waitUntilConnected,
} from "./chat_page.ts";
import { signedToken } from "./tokens.ts";

/** Who the moderator is: Mia of every room, unless said otherwise. */
export interface ModeratorClaims {
  /** @default "Mia" */
  readonly name?: string;
  /** The rooms moderated; without it, every room (`role`). */
  readonly moderates?: readonly string[];
}

/** The room page of `room` opened by a moderator, signed in by a token. */
export async function openAsModerator(
  browser: Browser,
  origin: string,
  room: string,
  visitor: Visitor = {},
  { name = "Mia", moderates }: ModeratorClaims = {},
): Promise<ChatPage> {
  const token = await signedToken({
    sub: `u-mod-${crypto.randomUUID().slice(0, 6)}`,
    name,
    ...(moderates ? { moderates: [...moderates] } : { role: "moderator" }),
  });
  const opened = await openChatPage(browser, visitor);
  await opened.page.goto(`${origin}${roomPath(room)}#token=${token}`);
  await waitUntilConnected(opened.page);
  return opened;
}

/** The message line of `page` whose text is exactly `text`. */
export const line = (page: Page, text: string) =>
  messageLine(page, exactly(text));

/** The Online list's line of `user` on `page`. */
export const onlineLine = (page: Page, user: string) =>
  page.locator("#chat-users li", {
    has: page.locator("bdi", { hasText: exactly(user) }),
  });

/** Opens the Online list if it is a closed drawer (on a phone). */
export async function showOnline(page: Page): Promise<void> {
  const toggle = page.locator("#chat-online-toggle");
  if (await toggle.getAttribute("aria-expanded") !== "true") {
    await toggle.click();
  }
}

/** Opens the moderator's dialog to `kind` ("mute" or "ban") `user`. */
export async function openDialog(
  page: Page,
  kind: "mute" | "ban",
  user: string,
): Promise<void> {
  await showOnline(page);
  await onlineLine(page, user).locator(`.user-tools .${kind}`).click();
  await page.locator(".moderation-dialog[open]").waitFor();
}

/** Opens the moderator's list of who is muted or banned (`name`: its button's). */
export async function openSanctions(
  page: Page,
  name = "Muted and banned",
): Promise<Locator> {
  await showOnline(page);
  await page.getByRole("button", { name }).click();
  const dialog = page.locator(".sanctions-dialog[open]");
  await dialog.waitFor();
  return dialog;
}

/** The entry of `user` in the dialog's list of `kind` ("mute" or "ban"). */
export const sanctionEntry = (
  dialog: Locator,
  kind: "mute" | "ban",
  user: string,
) =>
  dialog.locator(`ul[aria-labelledby="sanctions-${kind}-title"] li`, {
    has: dialog.page().locator("bdi.name", { hasText: exactly(user) }),
  });
