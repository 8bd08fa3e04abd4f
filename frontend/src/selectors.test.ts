import { describe, expect, it } from "vitest";
import { callsReducer } from "./calls";
import type { ConnectionView } from "./connection";
import { initialDashboardState, type DashboardState } from "./controller";
import { debugValues } from "./debug";
import { callChanges, connectionInfo, connectionSelector, presenceSelector } from "./selectors";
import type { CallEvent, ExtensionStatus } from "./types";

const LIVE: ConnectionView = {
  state: "live",
  phase: "live",
  attempt: 0,
  nextAttemptAt: null,
  attemptDeadline: null,
  lastPollOk: null,
  socketState: "connected",
};

const EXTENSIONS: ExtensionStatus[] = [
  { id: 1, number: "101", user: { id: 10, name: "Ada" }, state: "offline", online: false, call: null },
  { id: 2, number: "102", user: { id: 20, name: "Bo" }, state: "available", online: true, call: null },
];

function state(patch: Partial<DashboardState> = {}): DashboardState {
  return { ...initialDashboardState(), connection: LIVE, extensions: EXTENSIONS, ...patch };
}

function apply(s: DashboardState, event: CallEvent): DashboardState {
  return { ...s, calls: callsReducer(s.calls, { type: "event", event, now: 0 }) };
}

const ringingAt1: CallEvent = {
  name: "call.ringing",
  payload: { event_id: "e1", seq: 1, call_id: "c1", status: "ringing", ringing_at: "2025-01-01T00:00:00.000Z", extension_id: 1 },
};

describe("useWebSocketConnection's selector", () => {
  it("says the state, the attempt, when the next retry is and whether the page is polling", () => {
    expect(connectionInfo(LIVE)).toMatchObject({ state: "live", attempt: 0, nextRetryAt: null, polling: false });
    const waiting: ConnectionView = { ...LIVE, state: "polling", phase: "waiting", attempt: 2, nextAttemptAt: 5_000, lastPollOk: true };
    expect(connectionInfo(waiting)).toMatchObject({ state: "polling", attempt: 2, nextRetryAt: 5_000, polling: true });
    const connecting: ConnectionView = { ...waiting, state: "offline", phase: "connecting", lastPollOk: false };
    expect(connectionInfo(connecting)).toMatchObject({ state: "offline", nextRetryAt: null, polling: false });
  });

  it("answers with the same object until the connection changes", () => {
    const select = connectionSelector();
    const s = state();
    const first = select(s);
    expect(select({ ...s, stats: null, recent: [] })).toBe(first);
    expect(select({ ...s, connection: { ...LIVE, state: "delayed", delayedSince: 1 } })).not.toBe(first);
  });
});

describe("useCallPresence's selector", () => {
  it("derives the board from the calls and, while live, the presence channel", () => {
    const select = presenceSelector();
    let s = state({ members: [{ id: 20, name: "Bo" }] });
    expect(select(s, 20).extensions.map((row) => [row.number, row.state])).toEqual([
      ["102", "available"],
      ["101", "offline"],
    ]);
    s = apply(s, ringingAt1);
    const presence = select(s, 20);
    expect(presence.activeCalls.map((c) => [c.call_id, c.status])).toEqual([["c1", "ringing"]]);
    expect(presence.extensions.find((row) => row.number === "101")?.state).toBe("ringing");
  });

  it("when the socket is not live, reads who is online from the snapshot, not the stale members", () => {
    const select = presenceSelector();
    const down = state({
      members: [{ id: 10, name: "Ada" }],
      connection: { ...LIVE, state: "polling", phase: "waiting", lastPollOk: true },
    });
    expect(select(down, null).extensions.map((row) => row.state)).toEqual(["offline", "available"]);
  });

  it("answers with the same object while nothing it reads changes; the board only when its inputs do", () => {
    const select = presenceSelector();
    const s = state({ members: [{ id: 20, name: "Bo" }] });
    const first = select(s, 20);
    // A sync heard, the connection delayed: the presence is the same.
    const delayed = { ...s, delivery: { syncSeq: 3, syncsHeard: 1 }, connection: { ...LIVE, state: "delayed" as const } };
    expect(select(delayed, 20)).toBe(first);
    const stats = { date: "2025-01-01", total: 1, active: 0, answered: 1, missed: 0, average_duration: 3, longest_wait: 1 };
    const withStats = select({ ...s, stats }, 20);
    expect(withStats).not.toBe(first);
    expect(withStats.extensions).toBe(first.extensions);
    expect(withStats.activeCalls).toBe(first.activeCalls);
    expect(select({ ...s, stats }, 10).extensions[0]!.number).toBe("101");
  });

  it("keeps the same presence when an event is ignored (the calls record is unchanged)", () => {
    const select = presenceSelector();
    const s = apply(state({ members: [{ id: 20, name: "Bo" }] }), ringingAt1);
    const first = select(s, 20);
    const ignored = { ...s, calls: { ...s.calls, eventsIgnored: s.calls.eventsIgnored + 1 } };
    expect(ignored.calls.calls).toBe(s.calls.calls);
    expect(select(ignored, 20)).toBe(first);
  });

  it("counts the changes the history page listens to, and the debug counters", () => {
    const s = apply(state(), ringingAt1);
    const snap = { ...s, calls: callsReducer(s.calls, { type: "snapshot", calls: [], now: 0, seq: 1 }) };
    expect(callChanges(state())).toBe(0);
    expect(callChanges(s)).toBe(1);
    expect(callChanges(snap)).toBe(2);
    expect(debugValues(snap)).toEqual({
      eventsApplied: 1,
      snapshotsApplied: 1,
      connectionState: "live",
      appliedSeq: 1,
      syncSeq: null,
      syncsHeard: 0,
    });
  });
});
