/**
 * The server's frames, each to the part of the page it concerns: history
 * and messages to the log (tracking where the log is, for since= and for
 * older pages), presence to the online list and the reader's name,
 * refusals to the name form or the outbox. Frames are checked field by
 * field here; a frame of an unknown type or shape changes nothing.
 *
 * @module
 */

/** Whether `frame` is a chat message the log can show. */
export function isMessage(frame) {
  return frame && frame.type === "message" && Number.isInteger(frame.id) &&
    typeof frame.message === "string" && typeof frame.user === "string";
}

/** Refusals that concern a rename, shown by the name form. */
const NAME_REFUSALS = new Set(["bad_name", "name_taken", "name_fixed"]);

function strings(list) {
  return Array.isArray(list) ? list.filter((n) => typeof n === "string") : [];
}

/**
 * Builds the function that takes each frame. `position` (`lastId`, `epoch`,
 * `oldestId`) is shared with the connection and the older pages; `online`,
 * `name`, `outbox` and `older` are the parts the frames update.
 */
export function frameHandler(
  { position, chatLog, text, online, name, outbox, older },
) {
  /** The reader's words for a refusal `code`; the server's as a fallback. */
  function reasonFor(frame) {
    return text.errors[frame.code] ??
      (typeof frame.error === "string" ? frame.error : "");
  }

  function appendMessage(frame) {
    if (!isMessage(frame)) return;
    if (typeof frame.cid === "string") outbox.settle(frame.cid);
    if (frame.id <= position.lastId) return;
    position.lastId = frame.id;
    if (!position.oldestId) position.oldestId = frame.id;
    chatLog.appendMessage(frame);
  }

  function showHistory(frame) {
    const messages = Array.isArray(frame.messages) ? frame.messages : [];
    // Not recovered: what we show may have a hole, so start over from the
    // latest history and say so if we had been showing messages.
    const missed = !frame.recovered && position.lastId > 0;
    if (!frame.recovered) {
      chatLog.clear();
      position.lastId = 0;
      position.oldestId = 0;
    }
    position.epoch = typeof frame.epoch === "string" ? frame.epoch : "";
    for (const message of messages) appendMessage(message);
    if (missed) chatLog.notice(text.missed);
    // Whatever the history did not confirm goes out again, in order.
    outbox.resendAll();
    older.offer();
    chatLog.scrollToEnd();
  }

  function showPresence(frame) {
    if (typeof frame.you !== "string") return;
    online.replace(Array.isArray(frame.users) ? frame.users : [], frame.count);
    name.confirmed(frame.you, online.isVerified(frame.you));
    online.render();
  }

  function showRefusal(frame) {
    if (NAME_REFUSALS.has(frame.code)) name.refused(reasonFor(frame));
    else outbox.refused(frame.cid, frame.code, reasonFor(frame));
  }

  return (frame) => {
    switch (frame.type) {
      case "history":
        showHistory(frame);
        break;
      case "presence":
        showPresence(frame);
        break;
      case "join":
        if (typeof frame.user === "string") {
          online.showChanges({
            joined: [frame.user],
            verified: frame.verified === true ? [frame.user] : [],
          });
        }
        break;
      case "leave":
        if (typeof frame.user === "string") {
          online.showChanges({ left: [frame.user] });
        }
        break;
      case "rename":
        if (typeof frame.from === "string" && typeof frame.to === "string") {
          online.showChanges({
            renamed: [{
              from: frame.from,
              to: frame.to,
              signed: frame.verified === true,
            }],
          });
        }
        break;
      case "presence_change":
        online.showChanges({
          joined: strings(frame.joined),
          left: strings(frame.left),
          verified: strings(frame.verified),
          renamed: (Array.isArray(frame.renamed) ? frame.renamed : [])
            .filter((r) =>
              typeof r?.from === "string" && typeof r?.to === "string"
            )
            .map(({ from, to }) => ({ from, to, signed: false })),
        });
        break;
      case "message":
        appendMessage(frame);
        break;
      case "delete":
        if (Number.isInteger(frame.id)) chatLog.removeMessage(frame.id);
        break;
      case "error":
        showRefusal(frame);
        break;
    }
  };
}
