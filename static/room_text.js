/**
 * A message's text as page nodes: plain text, with `http:` and `https:`
 * addresses turned into links that open apart from the page and carry no
 * referrer, no trust and no ranking (`rel="noopener noreferrer nofollow
 * ugc"`). Built from text nodes and elements only, never from HTML, so a
 * message cannot add markup of its own.
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

/** Replaces the content of `element` with `text`, its addresses linked. */
export function showMessageText(element, text) {
  const nodes = [];
  let at = 0;
  for (const match of text.matchAll(ADDRESS)) {
    const candidate = trimEnd(match[0]);
    const anchor = link(candidate);
    if (!anchor) continue;
    nodes.push(text.slice(at, match.index), anchor);
    at = match.index + candidate.length;
  }
  nodes.push(text.slice(at));
  element.replaceChildren(...nodes.filter((node) => node !== ""));
}
