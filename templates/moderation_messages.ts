/**
 * The room page's text for moderation, in every language we ship: a
 * moderator's tools (delete any message, mute or ban someone online), what
 * a muted user reads above the composer, and what a banned user reads in
 * place of the room. It travels to the script inside `RoomText`
 * (`room_messages.ts`).
 *
 * @module
 */

/**
 * The words of the moderation tools and notices. `{user}`, `{until}` and
 * `{reason}` are filled in by the script, as text, never as HTML.
 */
export interface ModerationText {
  /** A button in the Online list; `{user}` is the name. */
  readonly muteUser: string;
  /** A button in the Online list; `{user}` is the name. */
  readonly banUser: string;
  /** In place of Mute for someone this page muted; `{user}` is the name. */
  readonly unmuteUser: string;
  /** The short visible label of those buttons. */
  readonly mute: string;
  readonly ban: string;
  readonly unmute: string;
  /** The dialog's question above the durations. */
  readonly duration: string;
  readonly tenMinutes: string;
  readonly oneHour: string;
  readonly oneDay: string;
  readonly forGood: string;
  /** The dialog's reason field. */
  readonly reason: string;
  /** Under the reason field: who reads it. */
  readonly reasonHint: string;
  /** The ban dialog's choice, for a moderator of every room. */
  readonly everyRoom: string;
  /** The dialog's buttons. */
  readonly cancel: string;
  /** A moderator's note in the log; `{user}` and `{until}`. */
  readonly mutedSomeoneUntil: string;
  readonly mutedSomeoneForGood: string;
  /** A moderator's note in the log; `{user}`. */
  readonly bannedSomeone: string;
  readonly bannedSomeoneEverywhere: string;
  readonly unmutedSomeone: string;
  /** Above the composer of a muted user; `{until}` is the end. */
  readonly mutedUntil: string;
  readonly mutedForGood: string;
  /** After a notice, the moderator's reason; `{reason}`. */
  readonly because: string;
  /** A moderator's note in the log after an unban; `{user}`. */
  readonly unbannedSomeone: string;
  /** The button in the Online panel, and the title of its dialog. */
  readonly sanctions: string;
  /** The dialog's two lists. */
  readonly mutedList: string;
  readonly bannedList: string;
  /** In place of an empty list. */
  readonly noneMuted: string;
  readonly noneBanned: string;
  /** While the list is asked for. */
  readonly loading: string;
  /** Under the lists when the server left the oldest out. */
  readonly more: string;
  /** An entry's end; `{until}` is the time. `forGood` when it has none. */
  readonly listedUntil: string;
  /** An entry's author and time; `{by}` and `{at}`. */
  readonly listedBy: string;
  /** A ban from every room; only a moderator of every room lifts it. */
  readonly everyRoomBan: string;
  /**
   * An entry's button; `unbanUser` its label (`{user}`),
   * `unbanUserEverywhere` that of a ban from every room.
   */
  readonly unban: string;
  readonly unbanUser: string;
  readonly unbanUserEverywhere: string;
  /** Closes the dialog. */
  readonly close: string;
  /** The title of what a banned user sees. */
  readonly bannedTitle: string;
  /** `{until}` is the end of the ban. */
  readonly bannedUntil: string;
  readonly bannedForGood: string;
}

/** English. */
export const enModeration: ModerationText = {
  muteUser: "Mute {user}",
  banUser: "Ban {user}",
  unmuteUser: "Unmute {user}",
  mute: "Mute",
  ban: "Ban",
  unmute: "Unmute",
  duration: "For how long",
  tenMinutes: "10 minutes",
  oneHour: "1 hour",
  oneDay: "1 day",
  forGood: "For good",
  reason: "Reason",
  reasonHint: "They will read it.",
  everyRoom: "From every room, not only this one",
  cancel: "Cancel",
  mutedSomeoneUntil: "{user} is muted until {until}",
  mutedSomeoneForGood: "{user} is muted for good",
  bannedSomeone: "{user} is banned from this room",
  bannedSomeoneEverywhere: "{user} is banned from every room",
  unmutedSomeone: "{user} can write again",
  unbannedSomeone: "{user} can come back",
  sanctions: "Muted and banned",
  mutedList: "Muted",
  bannedList: "Banned",
  noneMuted: "Nobody is muted here.",
  noneBanned: "Nobody is banned here.",
  loading: "Loading…",
  more: "Only the newest 200 of each are shown.",
  listedUntil: "Until {until}",
  listedBy: "By {by}, {at}",
  everyRoomBan: "From every room",
  unban: "Unban",
  unbanUser: "Unban {user}",
  unbanUserEverywhere: "Unban {user} from every room",
  close: "Close",
  mutedUntil:
    "A moderator muted you until {until}: you can read, but not write.",
  mutedForGood: "A moderator muted you: you can read, but not write.",
  because: "Reason: {reason}",
  bannedTitle: "You are banned from this room",
  bannedUntil: "A moderator banned you until {until}.",
  bannedForGood: "A moderator banned you for good.",
};

/** Korean. */
export const koModeration: ModerationText = {
  muteUser: "{user} 님 채팅 금지",
  banUser: "{user} 님 내보내기",
  unmuteUser: "{user} 님 채팅 금지 해제",
  mute: "채팅 금지",
  ban: "내보내기",
  unmute: "금지 해제",
  duration: "기간",
  tenMinutes: "10분",
  oneHour: "1시간",
  oneDay: "1일",
  forGood: "영구",
  reason: "사유",
  reasonHint: "상대방에게 보입니다.",
  everyRoom: "이 채팅방만이 아니라 모든 채팅방에서",
  cancel: "취소",
  mutedSomeoneUntil: "{user} 님은 {until}까지 채팅 금지입니다",
  mutedSomeoneForGood: "{user} 님은 영구 채팅 금지입니다",
  bannedSomeone: "{user} 님을 이 채팅방에서 내보냈습니다",
  bannedSomeoneEverywhere: "{user} 님을 모든 채팅방에서 내보냈습니다",
  unmutedSomeone: "{user} 님이 다시 채팅할 수 있습니다",
  unbannedSomeone: "{user} 님이 다시 들어올 수 있습니다",
  sanctions: "제재 목록",
  mutedList: "채팅 금지",
  bannedList: "내보낸 사용자",
  noneMuted: "채팅 금지된 사람이 없습니다.",
  noneBanned: "내보낸 사람이 없습니다.",
  loading: "불러오는 중…",
  more: "각각 가장 최근 200명만 보여 줍니다.",
  listedUntil: "{until}까지",
  listedBy: "{by}, {at}",
  everyRoomBan: "모든 채팅방에서",
  unban: "내보내기 해제",
  unbanUser: "{user} 님 내보내기 해제",
  unbanUserEverywhere: "{user} 님 모든 채팅방 내보내기 해제",
  close: "닫기",
  mutedUntil:
    "관리자가 {until}까지 채팅을 금지했습니다. 읽을 수는 있지만 쓸 수는 없습니다.",
  mutedForGood:
    "관리자가 채팅을 금지했습니다. 읽을 수는 있지만 쓸 수는 없습니다.",
  because: "사유: {reason}",
  bannedTitle: "이 채팅방에서 내보내졌습니다",
  bannedUntil: "관리자가 {until}까지 이 채팅방 입장을 막았습니다.",
  bannedForGood: "관리자가 이 채팅방 입장을 영구히 막았습니다.",
};
