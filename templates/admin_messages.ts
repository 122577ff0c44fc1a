/**
 * The admin console's text in English and Korean, beside the chat's own
 * table (messages.ts). The part its scripts need ({@linkcode AdminText})
 * travels to them as one JSON data attribute; `{…}` placeholders are filled
 * in by the scripts as text, never as HTML.
 *
 * @module
 */

import type { Lang } from "./messages.ts";

/** The console scripts' text. */
export interface AdminText {
  /** The status line after a refresh; `{time}` is the clock time. */
  readonly updated: string;
  /** The status line when the server did not answer; `{error}` says why. */
  readonly failed: string;
  /** The session ended: sign in again. */
  readonly signedOut: string;
  readonly ok: string;
  readonly down: string;
  /** `{used}` and `{limit}`: open descriptors against the limit. */
  readonly ofLimit: string;
  /** Messages per second, `{rate}`. */
  readonly perSecond: string;
  readonly unknown: string;
  readonly none: string;
  /** The webhook backlog: `{pending}` events, the oldest `{age}` s old. */
  readonly backlog: string;
  readonly webhooksOff: string;
  readonly delete: string;
  readonly mute: string;
  readonly ban: string;
  readonly disconnect: string;
  readonly unmute: string;
  readonly unban: string;
  /** A sanction for good. */
  readonly forGood: string;
  /** `{time}`: until when. */
  readonly until: string;
  /** A ban of every room. */
  readonly everyRoom: string;
  /** `{action}` on `{user}`: the action form's title. */
  readonly actOn: string;
  /** A message's delete button's name; `{user}` wrote it. */
  readonly deleteMessageOf: string;
  /** `{count}` people online. */
  readonly peopleOnline: string;
  readonly noRooms: string;
  readonly noMessages: string;
  readonly nobodyOnline: string;
  readonly noSanctions: string;
  readonly noEntries: string;
  /** The action was done. */
  readonly done: string;
  /** Sign-in with a token from the link failed; `{error}` says why. */
  readonly tokenRefused: string;
  /** Audit actions, by the store's name. */
  readonly actions: Readonly<Record<string, string>>;
}

/** Every string the console's pages show. */
export interface AdminMessages {
  readonly title: string;
  readonly nav: string;
  readonly overview: string;
  readonly rooms: string;
  readonly sanctions: string;
  readonly audit: string;
  readonly signOut: string;
  readonly signInTitle: string;
  readonly signInIntro: string;
  readonly apiKey: string;
  readonly signIn: string;
  readonly wrongKey: string;
  /** Sign-in refused after too many failures; `seconds` until it may again. */
  readonly tooManySignIns: (seconds: number) => string;
  readonly disabledTitle: string;
  readonly disabledIntro: string;
  readonly disabledHow: string;
  readonly connections: string;
  readonly activeRooms: string;
  readonly messageRate: string;
  readonly memory: string;
  readonly descriptors: string;
  readonly store: string;
  readonly bus: string;
  readonly webhooks: string;
  readonly uptime: string;
  readonly search: string;
  readonly sortBy: string;
  readonly sortOnline: string;
  readonly sortActivity: string;
  readonly room: string;
  readonly online: string;
  readonly lastMessage: string;
  readonly log: string;
  readonly roomSanctions: string;
  readonly user: string;
  readonly duration: string;
  readonly minutes10: string;
  readonly hour1: string;
  readonly day1: string;
  readonly forGood: string;
  readonly reason: string;
  readonly apply: string;
  readonly cancel: string;
  readonly kind: string;
  readonly until: string;
  readonly by: string;
  readonly when: string;
  readonly action: string;
  readonly older: string;
  readonly roomTitle: (room: string) => string;
  readonly text: AdminText;
}

const EN: AdminMessages = {
  title: "Chat admin",
  nav: "Admin pages",
  overview: "Overview",
  rooms: "Rooms",
  sanctions: "Bans and mutes",
  audit: "Audit log",
  signOut: "Sign out",
  signInTitle: "Sign in to the admin console",
  signInIntro:
    "Type the server's API key (CHAT_API_KEY), or open this page from your site with an admin token.",
  apiKey: "API key",
  signIn: "Sign in",
  wrongKey: "That key is not the server's API key.",
  tooManySignIns: (seconds) =>
    `Too many failed sign-ins from your address. Try again in ${seconds} s.`,
  disabledTitle: "The admin console is off",
  disabledIntro:
    "Nobody can sign in: this server has neither an API key nor signed identities.",
  disabledHow:
    "Set CHAT_API_KEY (at least 24 characters) to sign in with the key, or CHAT_AUTH with CHAT_AUTH_SECRET or CHAT_AUTH_PUBLIC_KEY to sign in with a token whose role is admin. See docs/admin.md.",
  connections: "Connections",
  activeRooms: "Rooms with people online",
  messageRate: "Messages received",
  memory: "Memory",
  descriptors: "Open descriptors",
  store: "Store",
  bus: "Fan-out",
  webhooks: "Webhooks",
  uptime: "Up for",
  search: "Search rooms",
  sortBy: "Sort by",
  sortOnline: "People online",
  sortActivity: "Latest activity",
  room: "Room",
  online: "Online",
  lastMessage: "Last message",
  log: "Messages",
  roomSanctions: "Mutes and bans here",
  user: "User",
  duration: "For how long",
  minutes10: "10 minutes",
  hour1: "1 hour",
  day1: "1 day",
  forGood: "For good",
  reason: "Reason",
  apply: "Apply",
  cancel: "Cancel",
  kind: "What",
  until: "Until",
  by: "By",
  when: "When",
  action: "Action",
  older: "Older entries",
  roomTitle: (room) => `Room ${room}`,
  text: {
    updated: "Updated at {time}",
    failed: "Could not refresh: {error}",
    signedOut: "Your session has ended; sign in again.",
    ok: "OK",
    down: "Down",
    ofLimit: "{used} of {limit}",
    perSecond: "{rate} per second",
    unknown: "Unknown",
    none: "None",
    backlog: "{pending} waiting, oldest {age} s",
    webhooksOff: "Off",
    delete: "Delete",
    mute: "Mute",
    ban: "Ban",
    disconnect: "Disconnect",
    unmute: "Unmute",
    unban: "Unban",
    forGood: "for good",
    until: "until {time}",
    everyRoom: "every room",
    actOn: "{action} {user}",
    deleteMessageOf: "Delete the message of {user}",
    peopleOnline: "{count} online",
    noRooms: "No rooms match.",
    noMessages: "No messages.",
    nobodyOnline: "Nobody is online.",
    noSanctions: "Nobody is muted or banned.",
    noEntries: "No entries.",
    done: "Done.",
    tokenRefused: "The token was refused: {error}",
    actions: {
      delete: "Deleted a message",
      mute: "Muted",
      unmute: "Unmuted",
      ban: "Banned",
      unban: "Unbanned",
      disconnect: "Disconnected",
    },
  },
};

const KO: AdminMessages = {
  title: "채팅 관리",
  nav: "관리 페이지",
  overview: "개요",
  rooms: "채팅방",
  sanctions: "차단과 발언 금지",
  audit: "감사 로그",
  signOut: "로그아웃",
  signInTitle: "관리 콘솔 로그인",
  signInIntro:
    "서버의 API 키(CHAT_API_KEY)를 입력하거나, 사이트에서 관리자 토큰으로 이 페이지를 여세요.",
  apiKey: "API 키",
  signIn: "로그인",
  wrongKey: "서버의 API 키가 아닙니다.",
  tooManySignIns: (seconds) =>
    `이 주소에서 로그인 실패가 너무 많습니다. ${seconds}초 후에 다시 시도하세요.`,
  disabledTitle: "관리 콘솔이 꺼져 있습니다",
  disabledIntro:
    "아무도 로그인할 수 없습니다: 이 서버에는 API 키도 서명된 신원도 없습니다.",
  disabledHow:
    "키로 로그인하려면 CHAT_API_KEY(24자 이상)를, 역할이 admin인 토큰으로 로그인하려면 CHAT_AUTH와 CHAT_AUTH_SECRET 또는 CHAT_AUTH_PUBLIC_KEY를 설정하세요. docs/admin.md를 보세요.",
  connections: "연결",
  activeRooms: "사람이 있는 채팅방",
  messageRate: "받은 메시지",
  memory: "메모리",
  descriptors: "열린 디스크립터",
  store: "저장소",
  bus: "전달",
  webhooks: "웹훅",
  uptime: "가동 시간",
  search: "채팅방 검색",
  sortBy: "정렬",
  sortOnline: "접속자 수",
  sortActivity: "최근 활동",
  room: "채팅방",
  online: "접속 중",
  lastMessage: "마지막 메시지",
  log: "메시지",
  roomSanctions: "이 방의 발언 금지와 차단",
  user: "사용자",
  duration: "기간",
  minutes10: "10분",
  hour1: "1시간",
  day1: "1일",
  forGood: "영구",
  reason: "사유",
  apply: "적용",
  cancel: "취소",
  kind: "종류",
  until: "종료",
  by: "처리자",
  when: "시각",
  action: "조치",
  older: "이전 기록",
  roomTitle: (room) => `채팅방 ${room}`,
  text: {
    updated: "{time}에 갱신됨",
    failed: "갱신하지 못했습니다: {error}",
    signedOut: "세션이 끝났습니다. 다시 로그인하세요.",
    ok: "정상",
    down: "중단",
    ofLimit: "{limit}개 중 {used}개",
    perSecond: "초당 {rate}개",
    unknown: "알 수 없음",
    none: "없음",
    backlog: "{pending}개 대기, 가장 오래된 것 {age}초",
    webhooksOff: "꺼짐",
    delete: "삭제",
    mute: "발언 금지",
    ban: "차단",
    disconnect: "연결 끊기",
    unmute: "발언 금지 해제",
    unban: "차단 해제",
    forGood: "영구",
    until: "{time}까지",
    everyRoom: "모든 채팅방",
    actOn: "{user}: {action}",
    deleteMessageOf: "{user}의 메시지 삭제",
    peopleOnline: "{count}명 접속 중",
    noRooms: "맞는 채팅방이 없습니다.",
    noMessages: "메시지가 없습니다.",
    nobodyOnline: "접속한 사람이 없습니다.",
    noSanctions: "발언 금지나 차단된 사람이 없습니다.",
    noEntries: "기록이 없습니다.",
    done: "완료했습니다.",
    tokenRefused: "토큰이 거부되었습니다: {error}",
    actions: {
      delete: "메시지 삭제",
      mute: "발언 금지",
      unmute: "발언 금지 해제",
      ban: "차단",
      unban: "차단 해제",
      disconnect: "연결 끊기",
    },
  },
};

/** The console's text in `lang`. */
export function adminMessagesFor(lang: Lang): AdminMessages {
  return lang === "ko" ? KO : EN;
}
