import { describe, expect, it } from "vitest";
import { boardRows, boardSeconds, extensionStateLabel, type BoardInput } from "./board";
import {
  callsReducer,
  initialCallsState,
  isActiveStatus,
  visibleCalls,
  type CallEntry,
  type CallsAction,
} from "./calls";
import type { CallEvent, ExtensionStatus } from "./types";

function extension(id: number, number: string, userId: number | null, online: boolean | null = null): ExtensionStatus {
  return {
    id,
    number,
    user: userId === null ? null : { id: userId, name: `User ${userId}` },
    state: online ? "available" : "offline",
    online,
    call: null,
  };
}

const EXTENSIONS = [extension(1, "101", 10), extension(2, "102", 20), extension(3, "103", 30), extension(4, "104", null)];

/** The calls the store holds after `events` (the board reads what the store reads). */
function calls(...events: CallEvent[]): CallEntry[] {
  const actions: CallsAction[] = events.map((event) => ({ type: "event", event, now: 0 }));
  return visibleCalls(actions.reduce(callsReducer, initialCallsState())).filter(
    (c) => c.endedAt === null && isActiveStatus(c.status),
  );
}

const initiated = (callId: string, from = "+15550001", at = "2025-01-01T10:00:00.000Z"): CallEvent => ({
  name: "call.initiated",
  payload: { call_id: callId, from_number: from, to_number: "+15559999", initiated_at: at },
});
const ringing = (callId: string, extensionId: number, at = "2025-01-01T10:00:02.000Z"): CallEvent => ({
  name: "call.ringing",
  payload: { call_id: callId, status: "ringing", ringing_at: at, extension_id: extensionId },
});
const answered = (callId: string, extensionId: number, at = "2025-01-01T10:00:05.000Z"): CallEvent => ({
  name: "call.answered",
  payload: { call_id: callId, status: "answered", answered_at: at, extension_id: extensionId },
});
const ended = (callId: string): CallEvent => ({ name: "call.ended", payload: { call_id: callId, status: "completed" } });

function board(input: Partial<BoardInput>) {
  return boardRows({ extensions: EXTENSIONS, calls: [], members: [], userId: null, ...input });
}

function states(input: Partial<BoardInput>): Record<string, string> {
  return Object.fromEntries(board(input).map((row) => [row.number, row.state]));
}

describe("the extensions board", () => {
  it("available when the extension's user is on the presence channel, offline otherwise or without a user", () => {
    expect(states({ members: [{ id: 10, name: "a" }, { id: "30", name: "c" }] })).toEqual({
      "101": "available",
      "102": "offline",
      "103": "available",
      "104": "offline",
    });
  });

  it("when the socket is not live, takes the snapshot's word on who is online (unknown: offline)", () => {
    const extensions = [extension(1, "101", 10, true), extension(2, "102", 20, false), extension(3, "103", 30, null)];
    expect(states({ extensions, members: null })).toEqual({ "101": "available", "102": "offline", "103": "offline" });
    // Live: presence decides, whatever the snapshot said.
    expect(states({ extensions, members: [{ id: 20, name: "b" }] })).toEqual({
      "101": "offline",
      "102": "available",
      "103": "offline",
    });
  });

  it("follows a call: ringing at its extension, then on a call, then back", () => {
    const members = [{ id: 10, name: "a" }];
    expect(states({ members, calls: calls(initiated("c1")) })["101"]).toBe("available");
    const rang = board({ members, calls: calls(initiated("c1"), ringing("c1", 1)) })[0]!;
    expect(rang).toMatchObject({
      number: "101",
      state: "ringing",
      call: { call_id: "c1", status: "ringing", other_number: "+15550001", since: "2025-01-01T10:00:02.000Z" },
    });
    const talking = board({ members, calls: calls(initiated("c1"), ringing("c1", 1), answered("c1", 1)) })[0]!;
    expect(talking).toMatchObject({
      state: "on-call",
      call: { status: "answered", other_number: "+15550001", since: "2025-01-01T10:00:05.000Z" },
    });
    expect(states({ members, calls: calls(initiated("c1"), ringing("c1", 1), ended("c1")) })["101"]).toBe("available");
  });

  it("a call rings or talks whether or not the user is signed in", () => {
    expect(states({ calls: calls(initiated("c1"), ringing("c1", 2)) })["102"]).toBe("ringing");
    expect(states({ calls: calls(initiated("c1"), answered("c1", 2)) })["102"]).toBe("on-call");
  });

  it("on a call wins over ringing; of several ringing calls, the earliest is shown", () => {
    const both = calls(initiated("a"), answered("a", 1), initiated("b"), ringing("b", 1));
    expect(board({ calls: both })[0]).toMatchObject({ state: "on-call", call: { call_id: "a" } });
    const two = calls(
      initiated("late", "+1", "2025-01-01T10:00:09.000Z"),
      ringing("late", 1, "2025-01-01T10:00:10.000Z"),
      initiated("early", "+2", "2025-01-01T10:00:00.000Z"),
    );
    // "early" only initiated: it counts from initiated_at once the snapshot puts it at the extension.
    const early = {
      call_id: "early",
      status: "initiated" as const,
      direction: "inbound",
      from_number: "+2",
      to_number: "+3",
      since: "2025-01-01T10:00:00.000Z",
    };
    const extensions = [{ ...EXTENSIONS[0]!, call: early }];
    expect(board({ extensions, calls: two })[0]).toMatchObject({
      state: "ringing",
      call: { call_id: "early", status: "initiated", since: "2025-01-01T10:00:00.000Z" },
    });
  });

  it("the other party of an outbound call is the number dialled", () => {
    const [entry] = calls(initiated("o"), answered("o", 1));
    const row = board({ calls: [{ ...entry!, direction: "outbound", to_number: "+4420" }] })[0]!;
    expect(row.call?.other_number).toBe("+4420");
  });

  it("puts the signed-in user's own extension(s) first, the rest by the snapshot's order", () => {
    const extensions = [...EXTENSIONS, extension(5, "105", 30)];
    expect(board({ extensions, userId: "30" }).map((row) => [row.number, row.mine])).toEqual([
      ["103", true],
      ["105", true],
      ["101", false],
      ["102", false],
      ["104", false],
    ]);
    expect(board({ userId: null }).map((row) => row.number)).toEqual(["101", "102", "103", "104"]);
  });

  it("counts the seconds since the state began, by the server's clock", () => {
    const row = board({ calls: calls(initiated("c1"), answered("c1", 1)) })[0]!;
    expect(boardSeconds(row, Date.parse("2025-01-01T10:01:05.900Z"))).toBe(60);
    expect(boardSeconds(row, Date.parse("2025-01-01T10:00:00.000Z"))).toBe(0);
    expect(boardSeconds(board({})[0]!, Date.now())).toBe(0);
  });

  it("labels each state", () => {
    expect((["offline", "available", "ringing", "on-call"] as const).map(extensionStateLabel)).toEqual([
      "Offline",
      "Available",
      "Ringing",
      "On a call",
    ]);
  });
});
