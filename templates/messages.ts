/**
 * The user interface text in every language we ship, chosen per request from
 * Accept-Language (English when nothing matches). The text the browser code
 * needs travels to it as one JSON data attribute ({@linkcode RoomText},
 * {@linkcode IndexText}).
 *
 * @module
 */

import type { RoomNameProblem } from "../chat/room_name.ts";
import { enRoom, koRoom, type RoomText } from "./room_messages.ts";

/** Languages with a full set of UI text. */
export const LANGUAGES = ["en", "ko"] as const;

/** One of {@linkcode LANGUAGES}. */
export type Lang = typeof LANGUAGES[number];

/** Checks a detected language code. */
export function isLang(value: unknown): value is Lang {
  return LANGUAGES.some((lang) => lang === value);
}

/** The index page's text for its script. */
export interface IndexText {
  readonly roomNameEmpty: string;
  readonly roomNameTooLong: string;
  readonly roomNameInvalid: string;
  readonly roomNameDots: string;
  /** `{count}` stands for the number of people. */
  readonly peopleOnline: string;
  /** `{user}` stands for the name a token gives; the rooms it allows follow. */
  readonly signedInAs: string;
  /** `{user}` stands for the name; the token allows every room. */
  readonly signedInAnyRoom: string;
  /** `{time}` stands for how long ago, e.g. "5 minutes ago". */
  readonly lastMessage: string;
}

/** Why a page could not be shown, for an error page in the reader's language. */
export type PageProblem =
  | { readonly kind: "not_found"; readonly path: string }
  | {
    readonly kind: "room_name";
    readonly room: string;
    readonly problem: RoomNameProblem;
  }
  | { readonly kind: "bad_host"; readonly host: string };

/** Every string a page shows. */
export interface Messages {
  /** The product's name, on the index page. */
  readonly productName: string;
  readonly indexTitle: string;
  /** The room name rules, shown under the index page's field. */
  readonly roomNameHint: string;
  readonly indexPrompt: string;
  readonly enterRoom: string;
  readonly activeRooms: string;
  /** Heading of the rooms a signed-in reader's token allows. */
  readonly signedInRooms: string;
  readonly noActiveRooms: string;
  readonly roomTitle: (room: string) => string;
  readonly rooms: string;
  readonly online: string;
  readonly showOnline: string;
  readonly yourName: string;
  readonly saveName: string;
  readonly cancel: string;
  readonly messageLabel: string;
  readonly messagePlaceholder: string;
  readonly send: string;
  readonly retryNow: string;
  /** Forgets a refused token and joins as a guest (`CHAT_AUTH=optional`). */
  readonly continueAsGuest: string;
  /** Beside the composer while the page cannot connect. */
  readonly composerClosed: string;
  readonly loadOlder: string;
  readonly otherRooms: string;
  /** What an empty room shows: a title and an invitation. */
  readonly emptyTitle: string;
  readonly emptyHint: string;
  /** A first visit's invitation to pick a name, over the guest name. */
  readonly welcome: string;
  readonly keepName: string;
  readonly closeOnline: string;
  readonly notFoundTitle: string;
  readonly errorTitle: string;
  /** The detail of an error page. */
  readonly problem: (problem: PageProblem) => string;
  readonly room: RoomText;
  readonly index: IndexText;
}

const enIndex: IndexText = {
  roomNameEmpty: "Please type a room name.",
  roomNameTooLong: "A room name can be at most 100 characters long.",
  roomNameInvalid:
    "A room name may only contain letters, digits, '_', '-' and '.'.",
  roomNameDots: "A room name cannot be only dots.",
  peopleOnline: "{count} online",
  signedInAs: "Signed in as {user}. Your sign-in lets you into these rooms:",
  signedInAnyRoom: "Signed in as {user}. Your sign-in lets you into any room.",
  lastMessage: "last message {time}",
};

const koIndex: IndexText = {
  roomNameEmpty: "채팅방 이름을 입력해주세요.",
  roomNameTooLong: "채팅방 이름은 100자 이하여야 합니다.",
  roomNameInvalid:
    "채팅방 이름에는 글자, 숫자, '_', '-', '.'만 쓸 수 있습니다.",
  roomNameDots: "채팅방 이름은 점으로만 이루어질 수 없습니다.",
  peopleOnline: "{count}명 접속 중",
  signedInAs: "{user} 님으로 로그인했습니다. 들어갈 수 있는 채팅방:",
  signedInAnyRoom:
    "{user} 님으로 로그인했습니다. 모든 채팅방에 들어갈 수 있습니다.",
  lastMessage: "마지막 메시지 {time}",
};

/** The index page's sentence for each room name problem. */
function roomNameReason(index: IndexText, problem: RoomNameProblem): string {
  switch (problem) {
    case "empty":
      return index.roomNameEmpty;
    case "too_long":
      return index.roomNameTooLong;
    case "invalid":
      return index.roomNameInvalid;
    case "dots":
      return index.roomNameDots;
  }
}

const en: Messages = {
  productName: "Deno chat",
  indexTitle: "Chat Rooms",
  roomNameHint:
    "Letters and digits in any language, and _ - . (up to 100 characters).",
  indexPrompt: "What chat room would you like to enter?",
  enterRoom: "Enter",
  activeRooms: "Active rooms",
  signedInRooms: "Your rooms",
  noActiveRooms: "No room has been active lately. Open one above.",
  roomTitle: (room) => `Chat room: ${room}`,
  rooms: "Rooms",
  online: "Online",
  showOnline: "Show who is online",
  yourName: "Your name",
  saveName: "Save",
  cancel: "Cancel",
  messageLabel: "Message",
  messagePlaceholder: "Write a message…",
  send: "Send",
  retryNow: "Retry now",
  continueAsGuest: "Continue as a guest",
  composerClosed:
    "Messages cannot be sent until the chat connects again (see above).",
  loadOlder: "Load older messages",
  otherRooms: "Other rooms",
  emptyTitle: "No messages yet",
  emptyHint: "Say hello: everyone in this room will see it.",
  welcome: "Welcome! Choose the name others see you by.",
  keepName: "Keep this one",
  closeOnline: "Close",
  notFoundTitle: "Not found",
  errorTitle: "Something went wrong",
  problem: (problem) => {
    switch (problem.kind) {
      case "not_found":
        return `There is no page at ${problem.path}.`;
      case "room_name":
        return `There is no room called “${problem.room}”. ${
          roomNameReason(enIndex, problem.problem)
        }`;
      case "bad_host":
        return `This server does not answer to the name ${problem.host}.`;
    }
  },
  room: enRoom,
  index: enIndex,
};

const ko: Messages = {
  productName: "Deno 채팅",
  indexTitle: "채팅방",
  roomNameHint:
    "모든 언어의 글자와 숫자, 그리고 _ - . 를 쓸 수 있습니다 (100자까지).",
  indexPrompt: "입장하실 채팅방 이름을 입력해주세요.",
  enterRoom: "입장하기",
  activeRooms: "최근 활동한 채팅방",
  signedInRooms: "내 채팅방",
  noActiveRooms:
    "최근에 활동한 채팅방이 없습니다. 위에서 채팅방을 열어 보세요.",
  roomTitle: (room) => `채팅방: ${room}`,
  rooms: "채팅방 목록",
  online: "접속 중",
  showOnline: "접속 중인 사람 보기",
  yourName: "내 이름",
  saveName: "저장",
  cancel: "취소",
  messageLabel: "메시지",
  messagePlaceholder: "메시지를 입력하세요…",
  send: "보내기",
  retryNow: "지금 다시 연결",
  continueAsGuest: "게스트로 계속하기",
  composerClosed:
    "채팅이 다시 연결될 때까지 메시지를 보낼 수 없습니다(위 안내 참고).",
  loadOlder: "이전 메시지 불러오기",
  otherRooms: "다른 채팅방",
  emptyTitle: "아직 메시지가 없습니다",
  emptyHint: "첫 인사를 남겨 보세요. 이 채팅방의 모두가 볼 수 있습니다.",
  welcome: "환영합니다! 다른 사람에게 보일 이름을 정해 주세요.",
  keepName: "이대로 쓰기",
  closeOnline: "닫기",
  notFoundTitle: "찾을 수 없습니다",
  errorTitle: "문제가 발생했습니다",
  problem: (problem) => {
    switch (problem.kind) {
      case "not_found":
        return `${problem.path} 주소에는 페이지가 없습니다.`;
      case "room_name":
        return `“${problem.room}” 채팅방은 없습니다. ${
          roomNameReason(koIndex, problem.problem)
        }`;
      case "bad_host":
        return `이 서버는 ${problem.host} 이름으로 접속할 수 없습니다.`;
    }
  },
  room: koRoom,
  index: koIndex,
};

/** The UI text for `lang`. */
export function messagesFor(lang: Lang): Messages {
  return lang === "ko" ? ko : en;
}
