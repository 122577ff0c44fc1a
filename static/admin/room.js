/**
 * One room in the console: its newest messages (GET
 * /admin/api/rooms/<room>/messages, polled) each with a delete button, who
 * is online with mute, ban and disconnect (a form asks for how long and
 * why), and the room's mutes and bans with unmute and unban. Lists are
 * updated in place by id, so a refresh does not take the focus away.
 *
 * @module
 */

import {
  api,
  el,
  fill,
  refreshEvery,
  show,
  status,
  text,
  timeText,
} from "./console.js";
import { liftButton, sanctionParts } from "./sanction_list.js";

const REFRESH_MS = 3_000;
const room = document.getElementById("admin").dataset.room;
const roomPath = `rooms/${encodeURIComponent(room)}`;
const log = document.getElementById("room-log");
const online = document.getElementById("room-online");
const sanctionList = document.getElementById("room-sanctions");
const form = document.getElementById("act-form");
const formTitle = document.getElementById("act-title");
const duration = document.getElementById("act-duration");
const reason = document.getElementById("act-reason");
/** The action the form is open for: `{ kind, user, opener }`. */
let acting;

/**
 * Makes `list`'s children the items of `data` (by `key`), reusing the
 * element of an item already shown so a focused button stays.
 */
function keyed(list, data, key, build, emptyId) {
  const old = new Map(
    [...list.children].map((node) => [node.dataset.key, node]),
  );
  const items = data.map((item) => {
    const id = String(key(item));
    const node = old.get(id) ?? build(item);
    node.dataset.key = id;
    return node;
  });
  const focused = document.activeElement;
  show(list, items, document.getElementById(emptyId));
  if (focused && list.contains(focused)) focused.focus();
}

function messageItem(message) {
  return el(
    "li",
    {},
    el("span", { class: "muted", text: timeText(message.ts) }),
    " ",
    el("bdi", { class: "admin-user", text: message.user }),
    " ",
    el("span", { class: "text", text: message.message }),
    " ",
    el("button", {
      type: "button",
      class: "admin-delete",
      text: text.delete,
      "aria-label": fill(text.deleteMessageOf, { user: message.user }),
      on: async (event) => {
        event.currentTarget.disabled = true;
        await act(() =>
          api(`${roomPath}/messages/${message.id}`, { method: "DELETE" })
        );
      },
    }),
  );
}

function personItem(user) {
  const button = (kind, label) =>
    el("button", {
      type: "button",
      "data-action": kind,
      text: label,
      "aria-label": `${label} ${user.name}`,
      on: (event) => openForm(kind, user.name, event.currentTarget),
    });
  return el(
    "li",
    {},
    el("bdi", { class: "admin-user", text: user.name }),
    el(
      "span",
      { class: "admin-actions" },
      button("mute", text.mute),
      button("ban", text.ban),
      el("button", {
        type: "button",
        "data-action": "disconnect",
        text: text.disconnect,
        "aria-label": `${text.disconnect} ${user.name}`,
        on: () =>
          act(() =>
            api(`${roomPath}/disconnect`, {
              method: "POST",
              body: JSON.stringify({ user: user.name }),
            })
          ),
      }),
    ),
  );
}

function sanctionItem(sanction) {
  const parts = sanctionParts(sanction);
  return el(
    "li",
    {},
    el("span", { text: `${parts.kind}: ` }),
    el("bdi", { class: "admin-user", text: parts.user }),
    el("span", {
      class: "muted",
      text: ` ${parts.until}${parts.reason ? ` · ${parts.reason}` : ""}`,
    }),
    liftButton(sanction, () => refresh()),
  );
}

function openForm(kind, user, opener) {
  acting = { kind, user, opener };
  formTitle.textContent = fill(text.actOn, {
    action: kind === "ban" ? text.ban : text.mute,
    user,
  });
  reason.value = "";
  form.hidden = false;
  duration.focus();
}

function closeForm() {
  form.hidden = true;
  acting?.opener?.focus();
  acting = undefined;
}

/** Runs a change, says how it went, and refreshes. */
async function act(change) {
  try {
    await change();
    status(text.done);
  } catch (error) {
    status(fill(text.failed, { error: error.message }));
  }
  await refresh();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!acting) return;
  const { kind, user } = acting;
  const seconds = duration.value === "" ? null : Number(duration.value);
  closeForm();
  await act(() =>
    api(`${roomPath}/${kind}s`, {
      method: "POST",
      body: JSON.stringify({ user, duration: seconds, reason: reason.value }),
    })
  );
});
document.getElementById("act-cancel").addEventListener("click", closeForm);
form.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeForm();
});

/** Shows each part that could be read; then fails with the first that could not. */
async function showParts(parts) {
  const settled = await Promise.allSettled(parts.map(([read]) => read()));
  settled.forEach((outcome, index) => {
    if (outcome.status === "fulfilled") parts[index][1](outcome.value);
  });
  const failed = settled.find((outcome) => outcome.status === "rejected");
  if (failed) throw failed.reason;
}

const refresh = refreshEvery(REFRESH_MS, () =>
  showParts([
    [
      () => api(`${roomPath}/messages?limit=50`),
      (history) =>
        keyed(
          log,
          history.messages,
          (message) => `${message.id}:${message.edited ?? ""}`,
          messageItem,
          "room-log-empty",
        ),
    ],
    [
      () => api(`${roomPath}/presence`),
      (presence) =>
        keyed(
          online,
          presence.users,
          (user) => user.name,
          personItem,
          "room-online-empty",
        ),
    ],
    [
      () => Promise.all([api(`${roomPath}/mutes`), api(`${roomPath}/bans`)]),
      ([mutes, bans]) =>
        keyed(
          sanctionList,
          [...bans.sanctions, ...mutes.sanctions],
          (sanction) => sanction.id,
          sanctionItem,
          "room-sanctions-empty",
        ),
    ],
  ]));
