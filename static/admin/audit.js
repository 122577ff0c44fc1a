/**
 * The audit log, newest first: the first page from GET /admin/api/audit,
 * refreshed every few seconds, and older pages on demand (`before=`).
 *
 * @module
 */

import {
  api,
  el,
  refreshEvery,
  show,
  text,
  timeText,
  untilText,
} from "./console.js";

const REFRESH_MS = 5_000;
const PAGE = 50;
const list = document.getElementById("audit-list");
const empty = document.getElementById("audit-empty");
const older = document.getElementById("audit-older");
/** The pages read beyond the first, kept while the first refreshes. */
let olderEntries = [];
let next = null;

function row(entry) {
  return el(
    "tr",
    { "data-id": entry.id },
    el("td", { text: timeText(entry.at) }),
    el("td", {}, el("bdi", { text: entry.actor })),
    el("td", {
      text: `${text.actions[entry.action] ?? entry.action}${
        entry.messageId === undefined ? "" : ` #${entry.messageId}`
      }`,
    }),
    el("td", {}, el("bdi", { text: entry.room ?? text.everyRoom })),
    el("td", {}, el("bdi", { text: entry.user ?? "" })),
    el("td", { text: entry.reason ?? "" }),
    // For how long: only mutes and bans have an end.
    el("td", { text: entry.until === undefined ? "" : untilText(entry.until) }),
  );
}

function render(first) {
  const seen = new Set(first.map((entry) => entry.id));
  const rest = olderEntries.filter((entry) => !seen.has(entry.id));
  show(list, [...first, ...rest].map(row), empty);
}

let firstPage = [];
refreshEvery(REFRESH_MS, async () => {
  const answer = await api(`audit?limit=${PAGE}`);
  firstPage = answer.entries;
  if (olderEntries.length === 0) next = answer.next;
  older.hidden = next === null;
  render(firstPage);
});

older.addEventListener("click", async () => {
  if (next === null) return;
  const answer = await api(`audit?limit=${PAGE}&before=${next}`);
  olderEntries = [...olderEntries, ...answer.entries];
  next = answer.next;
  older.hidden = next === null;
  render(firstPage);
});
