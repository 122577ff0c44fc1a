/**
 * What the room page keeps in the browser: the reader's name and this
 * browser's key (localStorage, for every tab), and the site's token
 * (sessionStorage, this tab only). Where storage is disabled each lasts for
 * the page.
 *
 * @module
 */

const NAME_KEY = "chat.name";
const BROWSER_KEY = "chat.key";
/**
 * The site's token for this tab. sessionStorage, not localStorage: the
 * token is the site's to renew, and it should not outlive the tab.
 */
const TOKEN_KEY = "chat.token";

/** The token when storage is disabled; it then lasts for this page. */
let pageToken = "";
/** The browser key when storage is disabled. */
let pageKey;

export function storedName() {
  try {
    return localStorage.getItem(NAME_KEY) ?? "";
  } catch {
    return "";
  }
}

export function rememberName(name) {
  try {
    if (name) localStorage.setItem(NAME_KEY, name);
    else localStorage.removeItem(NAME_KEY);
  } catch {
    // Storage can be disabled; the name then lasts for this page only.
  }
}

export function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return pageToken;
  }
}

/** Keeps `token` for this tab, in place of the one before. */
export function rememberToken(token) {
  pageToken = token;
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage can be disabled; the token then lasts for this page only.
  }
}

/** Forgets the token: the page goes on as a guest. */
export function forgetToken() {
  pageToken = "";
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage can be disabled; the page's copy is gone already.
  }
}

/**
 * Whether `token`'s `exp` claim has passed by this browser's clock. Read
 * only to word the banner: the payload of a JWT is not secret, only
 * signed, and the server decides whether the token is good.
 */
export function tokenHasExpired(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const { exp } = JSON.parse(atob(payload));
    return typeof exp === "number" && exp * 1000 <= Date.now();
  } catch {
    return false; // not a JWT we can read: the server's word stands
  }
}

/**
 * Takes a `#token=` the site put in the address. Browsers never send the
 * fragment to a server; dropping it from the address bar at once keeps the
 * token out of bookmarks, copied links and the back button. Returns whether
 * there was one.
 */
export function takeTokenFromAddress() {
  const fragment = new URLSearchParams(globalThis.location.hash.slice(1));
  const token = fragment.get("token");
  if (token === null) return false;
  const { pathname, search } = globalThis.location;
  history.replaceState(history.state, "", pathname + search);
  if (token === "") return false;
  rememberToken(token);
  return true;
}

/**
 * This browser's key: it proves to the server that two tabs are one user,
 * so that nobody else can take the name while it is online.
 */
export function browserKey() {
  try {
    let key = localStorage.getItem(BROWSER_KEY);
    if (!key) {
      key = crypto.randomUUID();
      localStorage.setItem(BROWSER_KEY, key);
    }
    return key;
  } catch {
    // Without storage the key lasts for this page only.
    pageKey ??= crypto.randomUUID();
    return pageKey;
  }
}

/** The newest message id the reader saw in `room` (0: none remembered). */
export function storedReadMark(room) {
  try {
    const id = Number(localStorage.getItem(`chat.read.${room}`));
    return Number.isSafeInteger(id) && id > 0 ? id : 0;
  } catch {
    return 0;
  }
}

export function rememberReadMark(room, id) {
  try {
    localStorage.setItem(`chat.read.${room}`, String(id));
  } catch {
    // Storage can be disabled; the page then shows no "new messages" line.
  }
}

const NOTIFY_KEY = "chat.notify";

/** Whether the reader turned mention notifications on with the bell. */
export function storedNotify() {
  try {
    return localStorage.getItem(NOTIFY_KEY) === "on";
  } catch {
    return false;
  }
}

export function rememberNotify(on) {
  try {
    if (on) localStorage.setItem(NOTIFY_KEY, "on");
    else localStorage.removeItem(NOTIFY_KEY);
  } catch {
    // Storage can be disabled; the bell then starts off on each visit.
  }
}
