/**
 * The days of the room page's log: each line's local day, the separator
 * that begins a day, and where a message of an earlier day goes when system
 * lines of a later one end the log (see the rules in room_log.js).
 *
 * @module
 */

/** The local day of an ISO time as `YYYY-MM-DD` (sorts as it reads), or "". */
export function dayOf(ts) {
  const date = new Date(ts ?? "");
  if (Number.isNaN(date.getTime())) return "";
  const two = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${
    two(date.getDate())
  }`;
}

/** A line that has a time: a message or a system line, not a pending one. */
export const isDated = (line) => line.dataset.ts !== undefined;

/** A message line, sent or still pending. */
export const isMessage = (line) => line.classList.contains("message");

/** A separator for the local day of `ts`, in `lang`. */
export function daySeparator(ts, lang) {
  const separator = document.createElement("li");
  separator.className = "day";
  separator.dataset.day = dayOf(ts);
  const date = new Date(ts);
  const time = document.createElement("time");
  if (!Number.isNaN(date.getTime())) {
    time.dateTime = separator.dataset.day;
    const thisYear = date.getFullYear() === new Date().getFullYear();
    time.textContent = date.toLocaleDateString(lang, {
      weekday: "long",
      month: "long",
      day: "numeric",
      ...(thisYear ? {} : { year: "numeric" }),
    });
  }
  separator.append(time);
  return separator;
}

/**
 * The first of the system lines and separators at the end of `log` that
 * are of a later day than `day`, or null: a message of `day` goes above
 * them.
 */
export function laterDayAtEnd(log, day) {
  let first = null;
  for (
    let line = log.lastElementChild;
    line && !isMessage(line);
    line = line.previousElementSibling
  ) {
    const itsDay = line.dataset.day ?? dayOf(line.dataset.ts);
    if (day === "" || itsDay === "" || itsDay <= day) break;
    first = line;
  }
  return first;
}

/** Puts a day separator above the dated `line` when it begins a day. */
export function separate(line, lang) {
  const day = dayOf(line.dataset.ts);
  if (day === "") return;
  let previous = line.previousElementSibling;
  while (previous && !isDated(previous) && !previous.dataset.day) {
    previous = previous.previousElementSibling;
  }
  const previousDay = previous?.dataset.day ?? dayOf(previous?.dataset.ts);
  if (previousDay !== day) line.before(daySeparator(line.dataset.ts, lang));
}
