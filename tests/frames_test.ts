import assert from "node:assert/strict";
import {
  CHAT_PROTOCOL,
  type HistoryFrame,
  type MessageFrame,
  serialiseFor,
  wireFormatFor,
} from "../chat/frames.ts";
import { parseBusEvent } from "../chat/bus_events.ts";
import { parseClientFrame } from "../chat/client_frames.ts";
import { parseRoomName, type RoomName } from "../chat/room_name.ts";
import { FRAME_LIMITS } from "../testkit/defaults.ts";

function room(name: string): RoomName {
  const parsed = parseRoomName(name);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.name;
}

Deno.test("client frames", async (t) => {
  await t.step("accepts the tutorial format without a type", () => {
    assert.deepEqual(parseClientFrame('{"message":"hi"}', FRAME_LIMITS), {
      ok: true,
      frame: { type: "message", message: "hi" },
    });
  });

  await t.step("accepts the typed format and keeps text exactly", () => {
    const text = "  안녕 👋 <script>alert(1)</script> שלום ";
    const parsed = parseClientFrame(
      JSON.stringify({ type: "message", message: text }),
      FRAME_LIMITS,
    );
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.frame, { type: "message", message: text });
  });

  await t.step("accepts a rename and leaves judging the name to later", () => {
    const parsed = parseClientFrame(
      JSON.stringify({ type: "rename", name: " ａｌｉｃｅ " }),
      FRAME_LIMITS,
    );
    assert.deepEqual(parsed, {
      ok: true,
      frame: { type: "rename", name: " ａｌｉｃｅ " },
    });
    for (const bad of [{ type: "rename" }, { type: "rename", name: 7 }]) {
      const refused = parseClientFrame(JSON.stringify(bad), FRAME_LIMITS);
      assert.ok(!refused.ok);
      assert.equal(refused.error.code, "bad_frame");
    }
  });

  await t.step("answers each kind of bad input with its code", () => {
    const cases: [string, string][] = [
      ["{", "invalid_json"],
      ["42", "bad_frame"],
      ["[]", "bad_frame"],
      ["null", "bad_frame"],
      ['{"type":"shout","message":"x"}', "bad_frame"],
      ['{"type":null,"message":"x"}', "bad_frame"],
      ['{"message":7}', "bad_frame"],
      ["{}", "bad_frame"],
      ['{"message":"half \\ud800 pair"}', "bad_frame"],
      ['{"message":"   "}', "empty"],
      [
        JSON.stringify({
          message: "x".repeat(FRAME_LIMITS.maxMessageChars + 1),
        }),
        "too_long",
      ],
    ];
    for (const [text, code] of cases) {
      const parsed = parseClientFrame(text, FRAME_LIMITS);
      assert.ok(!parsed.ok, text);
      assert.equal(parsed.error.type, "error");
      assert.equal(parsed.error.code, code, text);
      assert.ok(parsed.error.error.length > 0);
    }
  });

  await t.step("measures the limit in characters", () => {
    const limits = { maxMessageChars: 3 };
    assert.ok(parseClientFrame('{"message":"잡담방"}', limits).ok);
    assert.ok(parseClientFrame('{"message":"👋👋👋"}', limits).ok);
    assert.ok(!parseClientFrame('{"message":"👋👋👋👋"}', limits).ok);
  });
});

Deno.test("bus frames are validated like any input", () => {
  const lobby = room("lobby");
  const frame = {
    type: "message",
    id: 7,
    room: "lobby",
    user: "alice",
    message: "hi",
    ts: "2026-01-01T00:00:00.000Z",
    verified: false,
  };
  const good = JSON.stringify(frame);
  assert.deepEqual(parseBusEvent(good, lobby), { kind: "message", frame });
  assert.deepEqual(
    parseBusEvent('{"type":"leave","user":"bob"}', lobby),
    { kind: "presence", frame: { type: "leave", user: "bob" } },
  );
  const refused = [
    "not json",
    JSON.stringify({ ...frame, room: "other" }),
    JSON.stringify({ ...frame, id: 0 }),
    JSON.stringify({ ...frame, id: 1.5 }),
    JSON.stringify({ ...frame, id: "7" }),
    JSON.stringify({ ...frame, user: 3 }),
    JSON.stringify({ ...frame, verified: "yes" }),
    JSON.stringify({ ...frame, server: false }),
    JSON.stringify({ type: "delete", room: "other", id: 3 }),
    JSON.stringify({ type: "delete", room: "lobby", id: -1 }),
    JSON.stringify({ type: "disconnect", user: 5 }),
    '{"type":"join"}',
    '{"type":"history","messages":[]}',
  ];
  for (const text of refused) {
    assert.equal(parseBusEvent(text, lobby), undefined, text);
  }
  // Extra fields are dropped, so only known fields reach clients.
  const extra = parseBusEvent(JSON.stringify({ ...frame, evil: "<x>" }), lobby);
  assert.deepEqual(extra, { kind: "message", frame });
  // Who vouches for the sender survives the bus.
  const fromSite = { ...frame, verified: true, server: true };
  assert.deepEqual(
    parseBusEvent(JSON.stringify(fromSite), lobby),
    { kind: "message", frame: fromSite },
  );
  assert.deepEqual(
    parseBusEvent('{"type":"delete","room":"lobby","id":3}', lobby),
    { kind: "delete", frame: { type: "delete", room: "lobby", id: 3 } },
  );
  assert.deepEqual(
    parseBusEvent('{"type":"disconnect","user":"bob"}', lobby),
    { kind: "disconnect", event: { type: "disconnect", user: "bob" } },
  );
});

Deno.test("wire formats", async (t) => {
  await t.step("offering chat.v1 asks for the typed format", () => {
    assert.equal(CHAT_PROTOCOL, "chat.v1");
    assert.equal(wireFormatFor("chat.v1"), "typed");
    assert.equal(wireFormatFor("graphql-ws, chat.v1"), "typed");
    assert.equal(wireFormatFor(undefined), "tutorial");
    assert.equal(wireFormatFor(""), "tutorial");
    assert.equal(wireFormatFor("chat.v2"), "tutorial");
  });

  const first: MessageFrame = {
    type: "message",
    id: 1,
    room: room("lobby"),
    user: "alice",
    message: "one",
    ts: "2026-01-01T00:00:00.000Z",
    verified: false,
  };
  const second: MessageFrame = { ...first, id: 2, message: "two" };

  await t.step("a typed client gets every frame whole", () => {
    const history: HistoryFrame = {
      type: "history",
      messages: [first],
      recovered: false,
    };
    assert.deepEqual(serialiseFor("typed", history), [
      JSON.stringify(history),
    ]);
    assert.deepEqual(
      serialiseFor("typed", { type: "join", user: "bob", verified: false }),
      ['{"type":"join","user":"bob","verified":false}'],
    );
  });

  await t.step("a tutorial client gets only frames with a message", () => {
    const history = serialiseFor("tutorial", {
      type: "history",
      messages: [first, second],
      recovered: true,
    });
    assert.deepEqual(history.map((text) => JSON.parse(text)), [first, second]);
    assert.deepEqual(serialiseFor("tutorial", first), [JSON.stringify(first)]);
    for (
      const frame of [
        { type: "presence", users: [], count: 0, you: "bob" },
        { type: "join", user: "bob", verified: false },
        { type: "leave", user: "bob" },
        { type: "rename", from: "bob", to: "rob", verified: false },
        {
          type: "presence_change",
          joined: ["a", "b"],
          left: ["c"],
          verified: [],
          renamed: [],
        },
      ] as const
    ) {
      assert.deepEqual(serialiseFor("tutorial", frame), [], frame.type);
    }
    const [error] = serialiseFor("tutorial", {
      type: "error",
      code: "empty",
      error: "Message is empty",
    });
    assert.deepEqual(JSON.parse(error ?? ""), {
      type: "error",
      code: "empty",
      error: "Message is empty",
      message: "Message is empty",
    });
  });
});
