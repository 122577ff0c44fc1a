/**
 * A long press on a message, with a finger or a pen, opens its action menu
 * as on the chat apps people know: held still for {@linkcode HOLD_MS}
 * without moving more than {@linkcode SLOP_PX}. Lifting the finger, moving
 * it, a scroll or the browser taking over the gesture cancels the press; a
 * press that opened the menu keeps the browser's own answer to it (the
 * context menu, a text selection, the click after lifting) from following.
 * The menu button on each message stays, for the keyboard and screen
 * readers.
 *
 * @module
 */

/** How long a finger rests on a message before its menu opens. */
export const HOLD_MS = 500;
/** How far a resting finger may drift, in CSS pixels. */
export const SLOP_PX = 10;

/** What a press does not start on: controls keep their own meaning. */
const CONTROLS = "button, a, input, textarea, .actions";

/**
 * Watches the message lines of `log` and calls `open(item)` when one of
 * them is long-pressed.
 */
export function watchLongPress(log, open) {
  /** The press under way: its line, pointer, where it started, timer. */
  let press = null;
  /** A press opened the menu: its finger is still down, or just lifted. */
  let opened = false;

  const cancel = () => {
    if (press === null) return;
    clearTimeout(press.timer);
    press = null;
  };
  const fire = () => {
    const { item } = press;
    cancel();
    opened = true;
    // The browser may have begun selecting the word under the finger.
    const selection = document.getSelection();
    if (selection && item.contains(selection.anchorNode)) {
      selection.removeAllRanges();
    }
    open(item);
  };

  log.addEventListener("pointerdown", (event) => {
    cancel();
    opened = false;
    if (event.pointerType === "mouse" || !event.isPrimary) return;
    const item = event.target.closest("li.message");
    if (item === null || event.target.closest(CONTROLS) !== null) return;
    press = {
      item,
      pointerId: event.pointerId,
      x: event.clientX,
      y: event.clientY,
      timer: setTimeout(fire, HOLD_MS),
    };
  });
  log.addEventListener("pointermove", (event) => {
    if (press === null || event.pointerId !== press.pointerId) return;
    const drift = Math.hypot(event.clientX - press.x, event.clientY - press.y);
    if (drift > SLOP_PX) cancel();
  });
  for (const type of ["pointerup", "pointercancel"]) {
    log.addEventListener(type, cancel);
  }
  // A scroll of the log (or the page) moves the message from under the finger.
  globalThis.addEventListener("scroll", cancel, { capture: true });

  // The browser's own long-press answers, while a press is held or has
  // just opened the menu. A phone whose own long press is shorter asks for
  // its context menu first: that opens the message's menu at once.
  log.addEventListener("contextmenu", (event) => {
    if (press === null && !opened) return;
    event.preventDefault();
    if (press !== null) fire();
  });
  log.addEventListener("selectstart", (event) => {
    if (press !== null || opened) event.preventDefault();
  });
  // Lifting the finger after the menu opened is no tap: no mouse events
  // (whose mousedown would take the focus out of the menu), no click.
  log.addEventListener("touchend", (event) => {
    if (opened) event.preventDefault();
  });
  log.addEventListener("mousedown", (event) => {
    if (opened) event.preventDefault();
  });
  log.addEventListener("click", (event) => {
    if (!opened) return;
    opened = false;
    if (event.target.closest(".actions") === null) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, { capture: true });
}
