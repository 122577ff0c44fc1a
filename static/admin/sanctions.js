/**
 * Every mute and ban in force, from GET /admin/api/mutes and /bans every
 * few seconds, each with its unmute or unban button.
 *
 * @module
 */

import { api, el, refreshEvery, show } from "./console.js";
import { liftButton, sanctionParts } from "./sanction_list.js";

const REFRESH_MS = 5_000;
const list = document.getElementById("sanctions-list");
const empty = document.getElementById("sanctions-empty");

const refresh = refreshEvery(REFRESH_MS, async () => {
  const [mutes, bans] = await Promise.all([api("mutes"), api("bans")]);
  const sanctions = [...bans.sanctions, ...mutes.sanctions];
  show(
    list,
    sanctions.map((sanction) => {
      const parts = sanctionParts(sanction);
      return el(
        "tr",
        { "data-id": sanction.id },
        el("td", { text: parts.kind }),
        el("th", { scope: "row" }, el("bdi", { text: parts.user })),
        el("td", {}, el("bdi", { text: parts.room })),
        el("td", { text: parts.until }),
        el("td", { text: parts.reason }),
        el("td", {}, el("bdi", { text: parts.by })),
        el("td", {}, liftButton(sanction, () => refresh())),
      );
    }),
    empty,
  );
});
