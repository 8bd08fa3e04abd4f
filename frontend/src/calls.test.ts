import { describe, expect, it } from "vitest";
import {
  ENDED_LINGER_MS,
  SEEN_GENERATION_SIZE,
  TOMBSTONE_TTL_MS,
  callDurationSeconds,
  callsReducer,
  eventSeq,
  hasSeen,
  isStale,
  initialCallsState,
  isActiveStatus,
  liveStats,
  visibleCalls,
  type CallsAction,
  type CallsState,
} from "./calls";
import type { CallEvent, CallLog, CallStatus, EndedCallStatus } from "./types";

const T0 = Date.parse("2025-01-01T10:00:00.000Z");

/** The visible calls not over yet (neither ended locally nor in a final state), oldest first. */
function stillActive(state: CallsState) {
  return visibleCalls(state).filter((c) => c.endedAt === null && isActiveStatus(c.status));
}

function initiated(callId: string, eventId: string, at = "2025-01-01T10:00:00.000Z"): CallEvent {
  return {
    name: "call.initiated",
    payload: {
      event_id: eventId,
      call_id: callId,
      from_number: "+15550001",
      to_number: "+15559999",
      did_id: 7,
      status: "initiated",
      initiated_at: at,
    },
  };
}

function answered(callId: string, eventId: string, at = "2025-01-01T10:00:05.000Z"): CallEvent {
  return {
    name: "call.answered",
    payload: {
      event_id: eventId,
      call_id: callId,
      status: "answered",
      answered_at: at,
      extension_id: 3,
      answered_by: { id: 11, name: "Ada", extension_number: "101" },
    },
  };
}

function ringing(callId: string, eventId: string, at = "2025-01-01T10:00:02.000Z", extensionId: number | null = 3): CallEvent {
  return {
    name: "call.ringing",
    payload: { event_id: eventId, call_id: callId, status: "ringing", ringing_at: at, extension_id: extensionId },
  };
}

function ended(callId: string, eventId: string, status: EndedCallStatus = "completed"): CallEvent {
  return {
    name: "call.ended",
    payload: {
      event_id: eventId,
      call_id: callId,
      status,
      ended_at: "2025-01-01T10:01:00.000Z",
      duration: 55,
    },
  };
}

function log(callId: string, status: CallStatus, extra: Partial<CallLog> = {}): CallLog {
  return {
    id: callId.length,
    call_id: callId,
    direction: "inbound",
    from_number: "+1555" + callId,
    to_number: "+15559999",
    did_id: 7,
    did: { id: 7, phone_number: "+15559999" },
    extension_id: null,
    extension: null,
    answered_by: null,
    status,
    initiated_at: "2025-01-01T10:00:00.000Z",
    answered_at: null,
    ended_at: null,
    duration: null,
    recording_url: null,
    ...extra,
  };
}

function run(actions: CallsAction[], start: CallsState = initialCallsState()): CallsState {
  return actions.reduce(callsReducer, start);
}

const ev = (event: CallEvent, now = T0): CallsAction => ({ type: "event", event, now });

describe("events", () => {
  it("creates a call on initiated", () => {
    const s = run([ev(initiated("c1", "e1"))]);
    expect(s.calls.c1).toMatchObject({
      call_id: "c1",
      status: "initiated",
      from_number: "+15550001",
      to_number: "+15559999",
      endedAt: null,
    });
    expect(s.eventsApplied).toBe(1);
  });

  it("moves through answered and ended", () => {
    const s = run([
      ev(initiated("c1", "e1")),
      ev(answered("c1", "e2")),
      ev(ended("c1", "e3"), T0 + 60_000),
    ]);
    const c = s.calls.c1!;
    expect(c.status).toBe("completed");
    expect(c.answered_by?.name).toBe("Ada");
    expect(c.extension_number).toBe("101");
    expect(c.duration).toBe(55);
    expect(c.endedAt).toBe(T0 + 60_000);
    expect(s.tombstones.c1).toBe(T0 + 60_000);
    expect(s.eventsApplied).toBe(3);
  });

  it("ignores duplicate event ids", () => {
    const once = run([ev(initiated("c1", "e1"))]);
    const twice = run([ev(initiated("c1", "e1"))], once);
    expect(twice.calls).toBe(once.calls);
    expect(twice.eventsApplied).toBe(1);
    expect(twice.eventsIgnored).toBe(1);
  });

  it("ignores a duplicated ended without moving endedAt", () => {
    const s = run([
      ev(initiated("c1", "e1")),
      ev(ended("c1", "e2"), T0 + 1000),
      ev(ended("c1", "e2"), T0 + 2000),
    ]);
    expect(s.calls.c1!.endedAt).toBe(T0 + 1000);
    expect(s.eventsApplied).toBe(2);
  });

  it("applies events without an event id (no dedupe possible)", () => {
    const e = initiated("c1", "x");
    delete e.payload.event_id;
    const s = run([ev(e), ev(e)]);
    expect(s.eventsApplied).toBe(2);
    expect(Object.keys(s.calls)).toEqual(["c1"]);
  });

  it("bounds the seen set", () => {
    let s = initialCallsState();
    const n = SEEN_GENERATION_SIZE * 2 + 10;
    for (let i = 0; i < n; i++) {
      s = callsReducer(s, ev(ended(`c${i}`, `e${i}`)));
    }
    expect(s.seen.current.size + s.seen.previous.size).toBeLessThanOrEqual(SEEN_GENERATION_SIZE * 2);
    expect(hasSeen(s.seen, "e0")).toBe(false);
    expect(hasSeen(s.seen, `e${n - 1}`)).toBe(true);
    expect(hasSeen(s.seen, `e${n - SEEN_GENERATION_SIZE}`)).toBe(true);
    // A recent duplicate is still caught.
    const again = callsReducer(s, ev(ended(`c${n - 5}`, `e${n - 5}`)));
    expect(again.eventsApplied).toBe(s.eventsApplied);
  });
});

describe("ringing", () => {
  it("turns an initiated call ringing, with when and at which extension", () => {
    const s = run([ev(initiated("c1", "e1")), ev(ringing("c1", "e2"))]);
    expect(s.calls.c1).toMatchObject({
      status: "ringing",
      ringing_at: "2025-01-01T10:00:02.000Z",
      extension_id: 3,
      from_number: "+15550001",
    });
    expect(s.eventsApplied).toBe(2);
    expect(liveStats(visibleCalls(s), T0 + 10_000)).toEqual({ active: 1, ringing: 1, longestWait: 10 });
  });

  it("before its initiated: the call shows ringing, and initiated fills in without downgrading", () => {
    const s = run([ev(ringing("c1", "e2")), ev(initiated("c1", "e1"))]);
    expect(s.calls.c1).toMatchObject({ status: "ringing", from_number: "+15550001", ringing_at: "2025-01-01T10:00:02.000Z" });
  });

  it("never downgrades an answered call, but still records when it rang", () => {
    const s = run([ev(initiated("c1", "e1")), ev(answered("c1", "e3")), ev(ringing("c1", "e2", undefined, null))]);
    expect(s.calls.c1).toMatchObject({ status: "answered", ringing_at: "2025-01-01T10:00:02.000Z", extension_id: 3 });
  });

  it("does not resurrect an ended call", () => {
    const s = run([ev(initiated("c1", "e1")), ev(ended("c1", "e3")), ev(ringing("c1", "e2"))]);
    expect(s.calls.c1!.status).toBe("completed");
    const later = run([{ type: "prune", now: T0 + ENDED_LINGER_MS }, ev(ringing("c1", "e9"))], s);
    expect(later.calls.c1).toBeUndefined();
  });

  it("a snapshot carries ringing_at", () => {
    const s = run([{ type: "snapshot", now: T0, calls: [log("a", "ringing", { ringing_at: "2025-01-01T10:00:01.000Z" })] }]);
    expect(s.calls.a).toMatchObject({ status: "ringing", ringing_at: "2025-01-01T10:00:01.000Z" });
  });
});

describe("out of order", () => {
  it("answered before initiated creates the call, then initiated fills in without downgrading", () => {
    const a = run([ev(answered("c1", "e2"))]);
    expect(a.calls.c1).toMatchObject({ status: "answered", from_number: null, initiated_at: null });
    const b = run([ev(initiated("c1", "e1"))], a);
    expect(b.calls.c1).toMatchObject({
      status: "answered",
      from_number: "+15550001",
      initiated_at: "2025-01-01T10:00:00.000Z",
      answered_at: "2025-01-01T10:00:05.000Z",
    });
  });

  it("initiated after ended does not resurrect", () => {
    const s = run([ev(ended("c1", "e3")), ev(initiated("c1", "e1"))]);
    expect(s.calls.c1).toBeUndefined();
    expect(s.tombstones.c1).toBe(T0);
  });

  it("answered after ended does not resurrect", () => {
    const s = run([ev(initiated("c1", "e1")), ev(ended("c1", "e3")), ev(answered("c1", "e2"))]);
    expect(s.calls.c1!.status).toBe("completed");
    const later = run([{ type: "prune", now: T0 + ENDED_LINGER_MS }, ev(answered("c1", "e9"))], s);
    expect(later.calls.c1).toBeUndefined();
  });

  it("ended keeps its status (no_answer, busy, failed)", () => {
    for (const status of ["no_answer", "busy", "failed"] as const) {
      const s = run([ev(initiated("c1", "e1")), ev(ended("c1", "e2", status))]);
      expect(s.calls.c1!.status).toBe(status);
    }
  });

  it("ended with an active or unknown status (from the wire) is treated as completed", () => {
    for (const status of ["answered", "canceled"]) {
      const s = run([ev(initiated("c1", "e1")), ev(ended("c1", "e2", status as EndedCallStatus))]);
      expect(s.calls.c1!.status).toBe("completed");
      expect(stillActive(s)).toEqual([]);
    }
  });
});

describe("snapshot", () => {
  it("upserts active calls and counts snapshots", () => {
    const s = run([
      {
        type: "snapshot",
        now: T0,
        calls: [
          log("a", "ringing"),
          log("b", "answered", {
            answered_at: "2025-01-01T10:00:03.000Z",
            answered_by: { id: 1, name: "Bo", extension_number: "102" },
          }),
        ],
      },
    ]);
    expect(s.snapshotsApplied).toBe(1);
    expect(s.calls.a!.status).toBe("ringing");
    expect(s.calls.b!.extension_number).toBe("102");
  });

  it("drops locally active calls missing from the snapshot and tombstones them", () => {
    const s = run([
      ev(initiated("gone", "e1")),
      { type: "snapshot", now: T0 + 5, calls: [log("a", "ringing")] },
    ]);
    expect(s.calls.gone).toBeUndefined();
    expect(s.tombstones.gone).toBe(T0 + 5);
    // A late event for it must not bring it back.
    const t = run([ev(answered("gone", "e2"))], s);
    expect(t.calls.gone).toBeUndefined();
  });

  it("does not re-add tombstoned calls", () => {
    const s = run([
      ev(initiated("c1", "e1")),
      ev(ended("c1", "e2")),
      { type: "prune", now: T0 + ENDED_LINGER_MS },
      { type: "snapshot", now: T0 + ENDED_LINGER_MS, calls: [log("c1", "answered")] },
    ]);
    expect(s.calls.c1).toBeUndefined();
  });

  it("keeps lingering ended calls until pruned", () => {
    const s = run([
      ev(initiated("c1", "e1")),
      ev(ended("c1", "e2"), T0 + 100),
      { type: "snapshot", now: T0 + 200, calls: [] },
    ]);
    expect(s.calls.c1!.status).toBe("completed");
  });

  it("merges with local knowledge and never downgrades status", () => {
    const s = run([
      ev(answered("c1", "e2")),
      { type: "snapshot", now: T0, calls: [log("c1", "ringing")] },
    ]);
    expect(s.calls.c1).toMatchObject({
      status: "answered",
      from_number: "+1555c1",
      answered_by: { name: "Ada" },
    });
  });

  it("ignores ended calls in a snapshot", () => {
    const s = run([{ type: "snapshot", now: T0, calls: [log("x", "completed")] }]);
    expect(s.calls.x).toBeUndefined();
  });

  it("buffered events applied after the snapshot win", () => {
    const s = run([
      { type: "snapshot", now: T0, calls: [log("c1", "ringing")] },
      ev(answered("c1", "e2")),
      ev(ended("c1", "e3", "completed")),
    ]);
    expect(s.calls.c1!.status).toBe("completed");
  });
});

function withSeq(event: CallEvent, seq: number): CallEvent {
  return { ...event, payload: { ...event.payload, seq } } as CallEvent;
}

const snap = (calls: CallLog[], seq?: number | null, now = T0): CallsAction => ({ type: "snapshot", calls, now, seq });

describe("sequence numbers", () => {
  it("reads an event's seq, null when it has none", () => {
    expect(eventSeq(withSeq(initiated("c1", "e1"), 7))).toBe(7);
    expect(eventSeq(initiated("c1", "e1"))).toBeNull();
    expect(eventSeq({ name: "call.ended", payload: { call_id: "c1", seq: Number.NaN } })).toBeNull();
  });

  it("remembers the seq of the latest event applied", () => {
    const s = run([ev(withSeq(initiated("c1", "e1"), 1)), ev(withSeq(answered("c1", "e2"), 2))]);
    expect(s.seq).toBe(2);
    expect(s.calls.c1!.status).toBe("answered");
  });

  it("drops an event whose seq is not newer than the applied one, whatever its event id", () => {
    const s = run([ev(withSeq(initiated("c1", "e1"), 4)), ev(withSeq(ended("c1", "e9"), 4))]);
    expect(s.calls.c1!.status).toBe("initiated");
    expect(s.eventsApplied).toBe(1);
    expect(s.eventsIgnored).toBe(1);
    const older = run([ev(withSeq(answered("c1", "e3"), 3))], s);
    expect(older.calls).toBe(s.calls);
    expect(older.seq).toBe(4);
    expect(isStale(s, withSeq(answered("c1", "e3"), 3))).toBe(true);
    expect(isStale(s, withSeq(answered("c1", "e3"), 5))).toBe(false);
    expect(isStale(s, answered("c1", "e3"))).toBe(false);
  });

  it("a snapshot sets the applied seq: the events it reflects replay harmlessly, later ones apply", () => {
    const s = run([
      snap([log("c1", "answered")], 10),
      ev(withSeq(initiated("c1", "e1"), 9)),
      ev(withSeq(ended("c1", "e2"), 10)),
      ev(withSeq(initiated("c2", "e3"), 11)),
    ]);
    expect(s.seq).toBe(11);
    expect(s.calls.c1!.status).toBe("answered");
    expect(s.calls.c2!.status).toBe("initiated");
    expect(s.eventsApplied).toBe(1);
    expect(s.eventsIgnored).toBe(2);
  });

  it("a snapshot is the server's word even below the applied seq; one without a seq keeps it", () => {
    const s = run([ev(withSeq(initiated("c1", "e1"), 20)), snap([log("c1", "ringing")], 5)]);
    expect(s.seq).toBe(5);
    expect(run([snap([log("c1", "ringing")])], s).seq).toBe(5);
    expect(run([snap([], null)], s).seq).toBe(5);
  });

  it("events without a seq (an older server) only dedupe by event id", () => {
    const s = run([snap([], 3), ev(initiated("c1", "e1")), ev(initiated("c1", "e1")), ev(ended("c1", "e2"))]);
    expect(s.seq).toBe(3);
    expect(s.eventsApplied).toBe(2);
    expect(s.calls.c1!.status).toBe("completed");
  });
});

describe("prune", () => {
  it("removes ended calls after the linger time only", () => {
    const s = run([ev(initiated("c1", "e1")), ev(initiated("c2", "e2")), ev(ended("c1", "e3"), T0)]);
    const early = callsReducer(s, { type: "prune", now: T0 + ENDED_LINGER_MS - 1 });
    expect(early).toBe(s);
    const late = callsReducer(s, { type: "prune", now: T0 + ENDED_LINGER_MS });
    expect(Object.keys(late.calls)).toEqual(["c2"]);
    expect(late.tombstones.c1).toBe(T0);
  });

  it("forgets old tombstones", () => {
    const s = run([ev(ended("c1", "e1"), T0)]);
    const later = callsReducer(s, { type: "prune", now: T0 + TOMBSTONE_TTL_MS });
    expect(later.tombstones.c1).toBeUndefined();
  });

  it("reset empties everything", () => {
    const s = run([ev(initiated("c1", "e1")), { type: "reset" }]);
    expect(s).toEqual(initialCallsState());
  });
});

describe("selectors", () => {
  it("orders visible calls oldest first and computes live stats", () => {
    const s = run([
      ev(initiated("late", "e1", "2025-01-01T10:00:30.000Z")),
      ev(initiated("early", "e2", "2025-01-01T10:00:00.000Z")),
      ev(initiated("mid", "e3", "2025-01-01T10:00:10.000Z")),
      ev(answered("mid", "e4", "2025-01-01T10:00:20.000Z")),
      ev(initiated("done", "e5", "2025-01-01T09:59:00.000Z")),
      ev(ended("done", "e6")),
    ]);
    expect(visibleCalls(s).map((c) => c.call_id)).toEqual(["done", "early", "mid", "late"]);
    expect(stillActive(s).map((c) => c.call_id)).toEqual(["early", "mid", "late"]);
    const now = Date.parse("2025-01-01T10:01:00.000Z");
    expect(liveStats(visibleCalls(s), now)).toEqual({ active: 3, ringing: 2, longestWait: 60 });
    expect(liveStats([], now)).toEqual({ active: 0, ringing: 0, longestWait: 0 });
  });

  it("computes durations from the right start time", () => {
    const s = run([
      ev(initiated("r", "e1", "2025-01-01T10:00:00.000Z")),
      ev(initiated("a", "e2", "2025-01-01T10:00:00.000Z")),
      ev(answered("a", "e3", "2025-01-01T10:00:20.000Z")),
      ev(initiated("d", "e4")),
      ev(ended("d", "e5")),
    ]);
    const now = Date.parse("2025-01-01T10:00:45.500Z");
    expect(callDurationSeconds(s.calls.r!, now)).toBe(45);
    expect(callDurationSeconds(s.calls.a!, now)).toBe(25);
    expect(callDurationSeconds(s.calls.d!, now)).toBe(55);
    // Clock skew never shows negative durations.
    expect(callDurationSeconds(s.calls.r!, T0 - 5000)).toBe(0);
  });

  it("falls back to timestamps when an ended call has no duration", () => {
    const s = run([
      ev(initiated("d", "e1")),
      {
        type: "event",
        now: T0,
        event: {
          name: "call.ended",
          payload: { event_id: "e2", call_id: "d", status: "no_answer", ended_at: "2025-01-01T10:00:12.000Z" },
        },
      },
    ]);
    expect(callDurationSeconds(s.calls.d!, T0 + 99_000)).toBe(12);
  });
});
