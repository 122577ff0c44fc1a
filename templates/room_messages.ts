/**
 * The room page's text for its script, in every language we ship: the
 * connection's state, who came and went, the composer, the message menu,
 * typing, mentions and what each refusal says. It travels to the script as
 * one JSON data attribute.
 *
 * @module
 */

import type { FrameErrorCode } from "../chat/frames.ts";
import type { UserNameProblem } from "../chat/user_name.ts";
import {
  enModeration,
  koModeration,
  type ModerationText,
} from "./moderation_messages.ts";

/**
 * The room page's text for its script. `{user}`, `{from}`, `{to}` and
 * `{count}` are filled in by the script, as text, never as HTML.
 */
export interface RoomText {
  readonly connecting: string;
  readonly disconnected: string;
  /** `{user}` stands for the name. */
  readonly joined: string;
  /** `{user}` stands for the name. */
  readonly left: string;
  /** `{from}` and `{to}` stand for the old and the new name. */
  readonly renamed: string;
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
  /** The page's token does not allow this room (403). */
  readonly noAccess: string;
  /** The server kept refusing a page that has no token. */
  readonly connectionRefused: string;
  /** Label of the mark beside a name the server vouches for. */
  readonly verified: string;
  /** Label of the own-name button; `{user}` stands for the name. */
  readonly changeNameOf: string;
  /** A message typed while disconnected, waiting for the connection. */
  readonly pending: string;
  /** A message the server refused; the reason follows. */
  readonly notSent: string;
  readonly sendAgain: string;
  /**
   * What to tell the writer for each refusal `code` (protocol.md), but
   * `rejected`: the page shows the site's own reason for that one.
   */
  readonly errors: Readonly<
    Record<Exclude<FrameErrorCode, "rejected">, string>
  >;
  /**
   * Before the site's reason for a `rejected` message (its publish hook
   * refused it); `{reason}` stands for the reason.
   */
  readonly rejected: string;
  /** Why a name was refused, by the `reason` of a `bad_name` error. */
  readonly nameReasons: Readonly<Record<UserNameProblem, string>>;
  /** The "new messages" button; `{count}` stands for how many. */
  readonly newMessages: string;
  /** After the reader's own name in the Online list. */
  readonly you: string;
  /** Above the composer while one person types; `{user}` is the name. */
  readonly typingOne: string;
  /** While two people type; `{first}` and `{second}` are their names. */
  readonly typingTwo: string;
  /** While three or more people type. */
  readonly typingMany: string;
  /** The menu button on a message (react, edit, delete). */
  readonly messageActions: string;
  readonly react: string;
  readonly edit: string;
  readonly delete: string;
  /** Beside a message its owner edited. */
  readonly edited: string;
  /** Under the composer while it holds an edit of the reader's message. */
  readonly editing: string;
  /** A reaction chip's name: `{emoji}`, `{count}` and `{users}`. */
  readonly reactedBy: string;
  /** A button of the react menu; `{emoji}` stands for the emoji. */
  readonly reactWith: string;
  /** The line above the first message after the reader's last visit. */
  readonly unread: string;
  /** The bell's name while mention notifications are on. */
  readonly notifyOn: string;
  /** The bell's name while they are off. */
  readonly notifyOff: string;
  /** The bell's name when the browser blocks notifications. */
  readonly notifyBlocked: string;
  /** A mention's notification title; `{user}` is who wrote. */
  readonly mentionedBy: string;
  /** The list of names offered after `@` in the composer. */
  readonly mentionList: string;
  /** A moderator's tools, and what a muted or banned user reads. */
  readonly moderation: ModerationText;
}

/** The room page's text in English. */
export const enRoom: RoomText = {
  connecting: "Connecting…",
  disconnected: "Connection lost. Reconnecting…",
  joined: "{user} joined",
  left: "{user} left",
  renamed: "{from} is now {to}",
  missed: "Some messages were missed while you were away; showing the latest.",
  moreOnline: "and {count} more",
  nameTaken:
    "Someone else is using that name in this room. Choose another name to join.",
  tokenExpired:
    "Your sign-in expired; reopen the chat from the site to continue.",
  removedBySite: "The site has removed you from this room.",
  signInRefused:
    "Your sign-in was refused; reopen the chat from the site to sign in again.",
  noAccess:
    "You have no access to this room; the site's sign-in does not include it.",
  connectionRefused:
    "The server refused the connection. If this chat needs a sign-in, open it from the site; otherwise reload the page to try again.",
  verified: "Verified by the site",
  changeNameOf: "Your name: {user}. Change it",
  pending: "Waiting for the connection…",
  notSent: "Not sent:",
  sendAgain: "Send again",
  rejected: "The site did not accept this message: {reason}",
  newMessages: "{count} new messages",
  you: "(you)",
  typingOne: "{user} is typing…",
  typingTwo: "{first} and {second} are typing…",
  typingMany: "Several people are typing…",
  messageActions: "Message actions",
  react: "React",
  edit: "Edit",
  delete: "Delete",
  edited: "(edited)",
  editing: "Editing your message. Escape cancels.",
  reactedBy: "{emoji} {count}: {users}",
  reactWith: "React with {emoji}",
  unread: "New messages",
  notifyOn: "Notifications of mentions are on",
  notifyOff: "Notify me of mentions",
  notifyBlocked: "The browser blocks notifications for this site",
  mentionedBy: "{user} mentioned you",
  mentionList: "People to mention",
  moderation: enModeration,
  nameReasons: {
    empty: "Please type a name.",
    too_long: "That name is too long: at most 32 characters.",
    invisible:
      "That name holds invisible characters (such as zero-width or right-to-left marks).",
    nothing_visible: "That name has nothing visible in it.",
    mixed_scripts:
      "That name mixes letters of scripts that look alike (such as Latin and Cyrillic).",
    badge: "That name holds a check mark, which imitates the verified mark.",
    reserved: "That name is reserved, or looks like a reserved one.",
  },
  errors: {
    invalid_json: "The server could not read this message.",
    bad_frame: "The server could not read this message.",
    empty: "The message is empty.",
    too_long: "The message is too long.",
    rate_limited:
      "You are sending messages too fast. Wait a moment, then send it again.",
    unavailable:
      "The server could not save the message. Send it again in a moment.",
    bad_name: "That name cannot be used here.",
    name_taken: "Someone else in this room is using that name.",
    name_fixed: "Your name comes from your sign-in and cannot be changed.",
    no_key: "Only your own messages can be changed, and this page has no key.",
    not_owner: "That message is someone else's.",
    no_such_message: "That message is gone.",
    edits_off: "Messages cannot be edited here.",
    edit_window_passed: "That message is too old to edit.",
    too_many_reactions: "That message has as many kinds of reaction as it can.",
    not_emoji: "A reaction is one emoji.",
    muted: "A moderator muted you in this room.",
    not_moderator: "Only a moderator of this room can do that.",
    no_such_user: "Nobody by that name is online in this room.",
    bad_duration: "That duration cannot be used.",
  },
};

/** The room page's text in Korean. */
export const koRoom: RoomText = {
  connecting: "연결하는 중…",
  disconnected: "연결이 끊겼습니다. 다시 연결하는 중…",
  joined: "{user} 님이 들어왔습니다",
  left: "{user} 님이 나갔습니다",
  renamed: "{from} 님이 이름을 {to}(으)로 바꿨습니다",
  missed:
    "연결이 끊긴 동안의 메시지 일부를 놓쳤습니다. 최근 메시지를 보여드립니다.",
  moreOnline: "외 {count}명",
  nameTaken:
    "이 채팅방에서 다른 사람이 이미 쓰는 이름입니다. 다른 이름을 골라 주세요.",
  tokenExpired:
    "로그인이 만료되었습니다. 계속하려면 사이트에서 채팅을 다시 열어 주세요.",
  removedBySite: "사이트에서 회원님을 이 채팅방에서 내보냈습니다.",
  signInRefused:
    "로그인이 거부되었습니다. 사이트에서 채팅을 다시 열어 로그인해 주세요.",
  noAccess:
    "이 채팅방에 들어갈 권한이 없습니다. 사이트의 로그인에 이 채팅방이 포함되어 있지 않습니다.",
  connectionRefused:
    "서버가 연결을 거부했습니다. 로그인이 필요한 채팅이라면 사이트에서 열어 주시고, 아니라면 페이지를 새로 고쳐 다시 시도해 주세요.",
  verified: "사이트에서 확인한 사용자",
  changeNameOf: "내 이름: {user}. 이름 바꾸기",
  pending: "연결을 기다리는 중…",
  notSent: "보내지 못함:",
  sendAgain: "다시 보내기",
  rejected: "사이트에서 이 메시지를 받지 않았습니다: {reason}",
  newMessages: "새 메시지 {count}개",
  you: "(나)",
  typingOne: "{user} 님이 입력 중…",
  typingTwo: "{first} 님과 {second} 님이 입력 중…",
  typingMany: "여러 명이 입력 중…",
  messageActions: "메시지 메뉴",
  react: "반응 달기",
  edit: "고치기",
  delete: "지우기",
  edited: "(수정됨)",
  editing: "메시지를 고치는 중입니다. Esc를 누르면 취소합니다.",
  reactedBy: "{emoji} {count}: {users}",
  reactWith: "{emoji} 반응 달기",
  unread: "새 메시지",
  notifyOn: "멘션 알림 켜짐",
  notifyOff: "멘션 알림 받기",
  notifyBlocked: "브라우저가 이 사이트의 알림을 막고 있습니다",
  mentionedBy: "{user} 님이 나를 언급했습니다",
  mentionList: "언급할 사람",
  moderation: koModeration,
  nameReasons: {
    empty: "이름을 입력해 주세요.",
    too_long: "이름이 너무 깁니다. 32자까지 쓸 수 있습니다.",
    invisible:
      "이름에 보이지 않는 문자(폭 없는 공백, 오른쪽에서 왼쪽 표시 등)가 들어 있습니다.",
    nothing_visible: "이름에 보이는 글자가 없습니다.",
    mixed_scripts:
      "이름에 서로 비슷해 보이는 다른 문자(라틴 문자와 키릴 문자 등)가 섞여 있습니다.",
    badge: "이름에 인증 표시처럼 보이는 체크 표시가 들어 있습니다.",
    reserved: "예약된 이름이거나 예약된 이름과 비슷해 보입니다.",
  },
  errors: {
    invalid_json: "서버가 이 메시지를 읽을 수 없습니다.",
    bad_frame: "서버가 이 메시지를 읽을 수 없습니다.",
    empty: "빈 메시지는 보낼 수 없습니다.",
    too_long: "메시지가 너무 깁니다.",
    rate_limited:
      "메시지를 너무 빨리 보내고 있습니다. 잠시 기다린 뒤 다시 보내 주세요.",
    unavailable:
      "서버가 메시지를 저장하지 못했습니다. 잠시 후 다시 보내 주세요.",
    bad_name: "이 이름은 여기서 쓸 수 없습니다.",
    name_taken: "이 채팅방에서 다른 사람이 쓰고 있는 이름입니다.",
    name_fixed: "로그인한 이름은 여기서 바꿀 수 없습니다.",
    no_key: "이 페이지에는 키가 없어 내 메시지를 바꿀 수 없습니다.",
    not_owner: "다른 사람의 메시지입니다.",
    no_such_message: "이미 없는 메시지입니다.",
    edits_off: "여기서는 메시지를 고칠 수 없습니다.",
    edit_window_passed: "너무 오래된 메시지라 고칠 수 없습니다.",
    too_many_reactions: "이 메시지에는 더 많은 종류의 반응을 달 수 없습니다.",
    not_emoji: "반응은 이모지 하나입니다.",
    muted: "운영자가 이 채팅방에서 내 메시지를 막았습니다.",
    not_moderator: "이 채팅방의 운영자만 할 수 있습니다.",
    no_such_user: "그 이름으로 이 채팅방에 접속한 사람이 없습니다.",
    bad_duration: "쓸 수 없는 기간입니다.",
  },
};
