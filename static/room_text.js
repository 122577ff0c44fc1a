/**
 * A message's text as page nodes: plain text, with `http:` and `https:`
 * addresses turned into links that open apart from the page and carry no
 * referrer, no trust and no ranking (`rel="noopener noreferrer nofollow
 * ugc"`), and mentions of the reader (`@name`) marked; and the page's
 * sentences with names in them (templates, the verified mark). Built from
 * text nodes and elements only, never from HTML, so a message or a name
 * cannot add markup of its own.
 *
 * @module
 */

/** Candidates for an address: a scheme, then anything but space or quotes. */
const ADDRESS = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Punctuation that ends a sentence rather than an address. */
const TRAILING = ".,;:!?)]}";

/**
 * `candidate` without the punctuation after it; a closing parenthesis
 * stays while it closes one the address opened (`/wiki/X_(y)`).
 */
function trimEnd(candidate) {
  let end = candidate.length;
  while (end > 0 && TRAILING.includes(candidate[end - 1])) {
    const part = candidate.slice(0, end);
    const opened = part.split("(").length - part.split(")").length;
    if (candidate[end - 1] === ")" && opened >= 0) break;
    end -= 1;
  }
  return candidate.slice(0, end);
}

/** The link for `candidate`, or null when it is no http(s) address. */
function link(candidate) {
  let url;
  try {
    url = new URL(candidate);
  } catch {
    return null; // not an address after all: it stays text
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const anchor = document.createElement("a");
  anchor.href = url.href;
  anchor.rel = "noopener noreferrer nofollow ugc";
  anchor.target = "_blank";
  anchor.textContent = candidate;
  return anchor;
}

/** Whether `char` can go on a name, so `@ann` does not mention `@anna`. */
const NAME_CHAR = /[\p{L}\p{N}_.-]/u;

/**
 * `text` as strings and <mark>s where it mentions `@me` (any case); the
 * mentions found are counted in `found`.
 */
function markMentions(text, me, found) {
  if (me === "") return [text];
  const nodes = [];
  const lower = text.toLowerCase();
  const needle = `@${me.toLowerCase()}`;
  let at = 0;
  for (
    let index = lower.indexOf(needle);
    index !== -1;
    index = lower.indexOf(needle, index + needle.length)
  ) {
    const after = text[index + needle.length];
    if (after !== undefined && NAME_CHAR.test(after)) continue;
    const mark = document.createElement("mark");
    mark.className = "mention";
    mark.textContent = text.slice(index, index + needle.length);
    nodes.push(text.slice(at, index), mark);
    at = index + needle.length;
    found.count += 1;
  }
  nodes.push(text.slice(at));
  return nodes;
}

/**
 * Replaces the content of `element` with `text`, its addresses linked and
 * its mentions of `me` marked; returns whether it mentions `me`.
 */
export function showMessageText(element, text, me = "") {
  const found = { count: 0 };
  const nodes = [];
  let at = 0;
  for (const match of text.matchAll(ADDRESS)) {
    const candidate = trimEnd(match[0]);
    const anchor = link(candidate);
    if (!anchor) continue;
    nodes.push(...markMentions(text.slice(at, match.index), me, found), anchor);
    at = match.index + candidate.length;
  }
  nodes.push(...markMentions(text.slice(at), me, found));
  element.replaceChildren(...nodes.filter((node) => node !== ""));
  return found.count > 0;
}

/** Whether `text` mentions `@me` (any case, not `@mex`). */
export function mentions(text, me) {
  const found = { count: 0 };
  markMentions(text, me, found);
  return found.count > 0;
}

/** Fills `{name}` placeholders of `template`, each value in a <bdi>. */
export function fillTemplate(template, values) {
  const parts = template.split(/\{(\w+)\}/);
  return parts.map((part, index) => {
    if (index % 2 === 0) return part;
    if (!(part in values)) return `{${part}}`;
    const value = document.createElement("bdi");
    value.textContent = values[part];
    return value;
  });
}

/**
 * The mark beside a name the server vouches for: a badge drawn by the
 * stylesheet (a filled circle with a check), an element of its own with a
 * label, outside the name's text. No text a name can hold draws it, and
 * the server refuses check marks in names, so a name cannot imitate it.
 */
export function verifiedMark(label) {
  const mark = document.createElement("span");
  mark.className = "verified";
  mark.setAttribute("role", "img");
  mark.setAttribute("aria-label", label);
  mark.title = label;
  return mark;
}
