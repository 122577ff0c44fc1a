/**
 * A list item for a mute or a ban in force, with its unmute or unban
 * button, shared by the room page and the page of every sanction.
 *
 * @module
 */

import { api, el, text, untilText } from "./console.js";

/** The words for a sanction: what, whom, where, until when, why, by whom. */
export function sanctionParts(sanction) {
  return {
    kind: sanction.kind === "ban" ? text.ban : text.mute,
    user: sanction.target.user,
    room: sanction.room ?? text.everyRoom,
    until: untilText(sanction.until),
    reason: sanction.reason,
    by: sanction.by,
  };
}

/** The button that lifts `sanction`, then calls `done`. */
export function liftButton(sanction, done) {
  const label = sanction.kind === "ban" ? text.unban : text.unmute;
  return el("button", {
    type: "button",
    class: "admin-lift",
    text: label,
    "aria-label": `${label} ${sanction.target.user}`,
    on: async (event) => {
      event.currentTarget.disabled = true;
      try {
        await api(`${sanction.kind}s/${encodeURIComponent(sanction.id)}`, {
          method: "DELETE",
        });
      } finally {
        await done();
      }
    },
  });
}
