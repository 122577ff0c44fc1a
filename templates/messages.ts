/**
 * The user interface text in every language we ship, chosen per request from
 * Accept-Language (English when nothing matches).
 *
 * @module
 */

/** Languages with a full set of UI text. */
export const LANGUAGES = ["en", "ko"] as const;

/** One of {@linkcode LANGUAGES}. */
export type Lang = typeof LANGUAGES[number];

/** Checks a detected language code. */
export function isLang(value: unknown): value is Lang {
  return LANGUAGES.some((lang) => lang === value);
}

/** Every string a page shows. */
export interface Messages {
  readonly indexTitle: string;
  readonly indexPrompt: string;
  readonly enterRoom: string;
  readonly roomNameEmpty: string;
  readonly roomNameTooLong: string;
  readonly roomNameInvalid: string;
  readonly roomNameDots: string;
  readonly roomTitle: (room: string) => string;
  readonly messageLabel: string;
  readonly send: string;
  readonly otherRooms: string;
  readonly connecting: string;
  readonly disconnected: string;
  readonly yourName: string;
  readonly saveName: string;
  readonly online: string;
  readonly loadOlder: string;
  /** `{user}` stands for the name. */
  readonly joined: string;
  /** `{user}` stands for the name. */
  readonly left: string;
  readonly missed: string;
  /** `{count}` stands for the people online beyond those listed. */
  readonly moreOnline: string;
  /** The name is held by another browser in this room (close 4009). */
  readonly nameTaken: string;
  /** The site's token ran out and no new one came (close 4001). */
  readonly tokenExpired: string;
  /** The site removed this user from the room (close 4010). */
  readonly removedBySite: string;
  /** The server kept refusing the page's token before the upgrade. */
  readonly signInRefused: string;
  /** The server kept refusing a page that has no token. */
  readonly connectionRefused: string;
  /** Label of the mark beside a name the server vouches for. */
  readonly verified: string;
  readonly notFoundTitle: string;
  readonly errorTitle: string;
}

const en: Messages = {
  indexTitle: "Chat Rooms",
  indexPrompt: "What chat room would you like to enter?",
  enterRoom: "Enter",
  roomNameEmpty: "Please type a room name.",
  roomNameTooLong: "A room name can be at most 100 characters long.",
  roomNameInvalid:
    "A room name may only contain letters, digits, '_', '-' and '.'.",
  roomNameDots: "A room name cannot be only dots.",
  roomTitle: (room) => `Chat room: ${room}`,
  messageLabel: "Message",
  send: "Send",
  otherRooms: "Other rooms",
  connecting: "Connecting…",
  disconnected: "Disconnected. Reconnecting…",
  yourName: "Your name",
  saveName: "Save",
  online: "Online",
  loadOlder: "Load older messages",
  joined: "{user} joined",
  left: "{user} left",
  missed: "Some messages were missed while you were away; showing the latest.",
  moreOnline: "and {count} more",
  nameTaken:
    "Someone else is using that name in this room. Choose another name to join.",
  tokenExpired:
    "Your session has expired; reopen the chat from the site to continue.",
  removedBySite: "The site has removed you from this room.",
  signInRefused:
    "Your sign-in was refused; reopen the chat from the site to sign in again.",
  connectionRefused:
    "The server refused the connection. If this chat needs a sign-in, open it from the site; otherwise reload the page to try again.",
  verified: "Verified by the site",
  notFoundTitle: "Not found",
  errorTitle: "Something went wrong",
};

const ko: Messages = {
  indexTitle: "채팅방",
  indexPrompt: "입장하실 채팅방 이름을 입력해주세요.",
  enterRoom: "입장하기",
  roomNameEmpty: "채팅방 이름을 입력해주세요.",
  roomNameTooLong: "채팅방 이름은 100자 이하여야 합니다.",
  roomNameInvalid:
    "채팅방 이름에는 글자, 숫자, '_', '-', '.'만 쓸 수 있습니다.",
  roomNameDots: "채팅방 이름은 점으로만 이루어질 수 없습니다.",
  roomTitle: (room) => `채팅방: ${room}`,
  messageLabel: "메시지",
  send: "보내기",
  otherRooms: "다른 채팅방",
  connecting: "연결하는 중…",
  disconnected: "연결이 끊겼습니다. 다시 연결하는 중…",
  yourName: "내 이름",
  saveName: "저장",
  online: "접속 중",
  loadOlder: "이전 메시지 불러오기",
  joined: "{user} 님이 들어왔습니다",
  left: "{user} 님이 나갔습니다",
  missed:
    "연결이 끊긴 동안의 메시지 일부를 놓쳤습니다. 최근 메시지를 보여드립니다.",
  moreOnline: "외 {count}명",
  nameTaken:
    "이 채팅방에서 다른 사람이 이미 쓰는 이름입니다. 다른 이름을 골라 주세요.",
  tokenExpired:
    "로그인 세션이 만료되었습니다. 계속하려면 사이트에서 채팅을 다시 열어 주세요.",
  removedBySite: "사이트에서 회원님을 이 채팅방에서 내보냈습니다.",
  signInRefused:
    "로그인이 거부되었습니다. 사이트에서 채팅을 다시 열어 로그인해 주세요.",
  connectionRefused:
    "서버가 연결을 거부했습니다. 로그인이 필요한 채팅이라면 사이트에서 열어 주시고, 아니라면 페이지를 새로 고쳐 다시 시도해 주세요.",
  verified: "사이트에서 확인한 사용자",
  notFoundTitle: "찾을 수 없습니다",
  errorTitle: "문제가 발생했습니다",
};

/** The UI text for `lang`. */
export function messagesFor(lang: Lang): Messages {
  return lang === "ko" ? ko : en;
}
