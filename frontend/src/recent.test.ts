import { describe, expect, it } from "vitest";
import { newestShownFirst, shownAt } from "./recent";
import type { CallLog } from "./types";

function call(callId: string, initiated: string | null, ended: string | null): CallLog {
  return {
    id: callId,
    call_id: callId,
    direction: "inbound",
    from_number: "+1",
    to_number: "+2",
    did_id: null,
    did: null,
    extension_id: null,
    extension: null,
    answered_by: null,
    status: ended ? "completed" : "answered",
    initiated_at: initiated,
    answered_at: null,
    ended_at: ended,
    duration: null,
    recording_url: null,
  };
}

describe("recent calls", () => {
  it("show their end, else their start", () => {
    expect(shownAt(call("a", "2025-01-01T10:00:00.000Z", "2025-01-01T10:05:00.000Z"))).toBe("2025-01-01T10:05:00.000Z");
    expect(shownAt(call("a", "2025-01-01T10:00:00.000Z", null))).toBe("2025-01-01T10:00:00.000Z");
    expect(shownAt(call("a", null, null))).toBeNull();
  });

  it("run by the time they show, newest first, not by when they began", () => {
    const long = call("long", "2025-01-01T09:00:00.000Z", "2025-01-01T10:30:00.000Z");
    const short = call("short", "2025-01-01T10:00:00.000Z", "2025-01-01T10:01:00.000Z");
    const open = call("open", "2025-01-01T10:10:00.000Z", null);
    // The server lists by start: short, open… the page by what it shows.
    expect(newestShownFirst([open, short, long]).map((c) => c.call_id)).toEqual(["long", "open", "short"]);
  });

  it("puts calls without a time last and keeps ties in the server's order", () => {
    const a = call("a", "2025-01-01T10:00:00.000Z", "2025-01-01T10:01:00.000Z");
    const b = call("b", "2025-01-01T09:00:00.000Z", "2025-01-01T10:01:00.000Z");
    const none = call("none", null, null);
    const bad = call("bad", "not a time", null);
    expect(newestShownFirst([none, a, bad, b]).map((c) => c.call_id)).toEqual(["a", "b", "none", "bad"]);
  });
});
