import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "./connection";
import { DEFAULT_SYNC_INTERVAL_MS, Freshness, LAG_GRACE_MS, syncIntervalMs } from "./freshness";

const T0 = Date.parse("2025-01-01T00:00:00.000Z");

function setup() {
  const onChange = vi.fn();
  const onLagging = vi.fn();
  const freshness = new Freshness({ clock: systemClock, onChange, onLagging });
  return { freshness, onChange, onLagging };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

describe("syncIntervalMs", () => {
  it("takes the payload's seconds, else 10 s", () => {
    expect(syncIntervalMs(10)).toBe(10_000);
    expect(syncIntervalMs(2.5)).toBe(2_500);
    expect(syncIntervalMs(undefined)).toBe(DEFAULT_SYNC_INTERVAL_MS);
    expect(syncIntervalMs("10")).toBe(DEFAULT_SYNC_INTERVAL_MS);
    expect(syncIntervalMs(0)).toBe(DEFAULT_SYNC_INTERVAL_MS);
    expect(syncIntervalMs(-3)).toBe(DEFAULT_SYNC_INTERVAL_MS);
    expect(syncIntervalMs(Number.POSITIVE_INFINITY)).toBe(DEFAULT_SYNC_INTERVAL_MS);
    expect(syncIntervalMs(0.001)).toBe(1_000);
    expect(syncIntervalMs(1e9)).toBe(300_000);
  });
});

describe("silence", () => {
  it("is delayed once no sync has come for two intervals, since the last one heard", () => {
    const { freshness, onChange } = setup();
    freshness.setApplied(5);
    freshness.watch();
    vi.advanceTimersByTime(7_000);
    freshness.heard(5, 10);
    vi.advanceTimersByTime(19_999);
    expect(freshness.delay).toBeNull();
    expect(onChange).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(freshness.delay).toEqual({ reasons: ["silence"], since: T0 + 7_000 });
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it("counts from the start of the watch when no sync has been heard yet (default 10 s interval)", () => {
    const { freshness } = setup();
    vi.advanceTimersByTime(60_000); // not watched: nothing to judge
    expect(freshness.delay).toBeNull();
    freshness.watch();
    vi.advanceTimersByTime(19_999);
    expect(freshness.delay).toBeNull();
    vi.advanceTimersByTime(1);
    expect(freshness.delay).toEqual({ reasons: ["silence"], since: T0 + 60_000 });
  });

  it("uses the interval the last sync announced", () => {
    const { freshness } = setup();
    freshness.watch();
    freshness.heard(null, 3);
    vi.advanceTimersByTime(5_999);
    expect(freshness.delay).toBeNull();
    vi.advanceTimersByTime(1);
    expect(freshness.delay?.reasons).toEqual(["silence"]);
    expect(freshness.interval).toBe(3_000);
  });

  it("is over when a sync arrives that the page has caught up with", () => {
    const { freshness, onChange } = setup();
    freshness.setApplied(8);
    freshness.watch();
    vi.advanceTimersByTime(25_000);
    expect(freshness.delay?.reasons).toEqual(["silence"]);
    freshness.heard(8, 10);
    expect(freshness.delay).toBeNull();
    expect(onChange).toHaveBeenCalledTimes(2);
    // And the next silence counts from that sync.
    vi.advanceTimersByTime(19_999);
    expect(freshness.delay).toBeNull();
  });

  it("a pause (socket down) forgets it; the next watch starts afresh", () => {
    const { freshness } = setup();
    freshness.watch();
    vi.advanceTimersByTime(20_000);
    expect(freshness.delay).not.toBeNull();
    freshness.pause();
    expect(freshness.delay).toBeNull();
    vi.advanceTimersByTime(60_000);
    freshness.watch();
    expect(freshness.delay).toBeNull();
    vi.advanceTimersByTime(19_000);
    expect(freshness.delay).toBeNull();
  });
});

describe("lag", () => {
  it("a sync ahead of what was applied: events get a grace period to arrive", () => {
    const { freshness, onLagging } = setup();
    freshness.setApplied(3);
    freshness.watch();
    freshness.heard(5, 10);
    expect(freshness.behind).toBe(true);
    vi.advanceTimersByTime(1_000);
    freshness.setApplied(4);
    freshness.setApplied(5);
    expect(freshness.behind).toBe(false);
    vi.advanceTimersByTime(10_000);
    expect(onLagging).not.toHaveBeenCalled();
    expect(freshness.delay).toBeNull();
  });

  it("a lag outlasting the grace is delayed since it began, and asks for the snapshot", () => {
    const { freshness, onLagging, onChange } = setup();
    freshness.setApplied(3);
    freshness.watch();
    vi.advanceTimersByTime(2_000);
    freshness.heard(9, 10);
    vi.advanceTimersByTime(LAG_GRACE_MS - 1);
    expect(freshness.delay).toBeNull();
    vi.advanceTimersByTime(1);
    expect(onLagging).toHaveBeenCalledTimes(1);
    expect(freshness.delay).toEqual({ reasons: ["lag"], since: T0 + 2_000 });
    expect(onChange).toHaveBeenCalledTimes(1);
    // Still behind: asks again after each grace period.
    vi.advanceTimersByTime(LAG_GRACE_MS);
    expect(onLagging).toHaveBeenCalledTimes(2);
    // The snapshot catches up: live again, no more asking.
    freshness.setApplied(9);
    expect(freshness.delay).toBeNull();
    vi.advanceTimersByTime(LAG_GRACE_MS * 3);
    expect(onLagging).toHaveBeenCalledTimes(2);
  });

  it("a sync behind what the page applied (a snapshot overtook it) is no lag", () => {
    const { freshness, onLagging } = setup();
    freshness.setApplied(12);
    freshness.watch();
    freshness.heard(10, 10);
    expect(freshness.behind).toBe(false);
    vi.advanceTimersByTime(LAG_GRACE_MS * 2);
    expect(onLagging).not.toHaveBeenCalled();
  });

  it("an event after a gap reveals a seq the page lacks", () => {
    const { freshness, onLagging } = setup();
    freshness.setApplied(3);
    freshness.watch();
    freshness.exists(6);
    expect(freshness.behind).toBe(true);
    vi.advanceTimersByTime(LAG_GRACE_MS);
    expect(onLagging).toHaveBeenCalledTimes(1);
    expect(freshness.delay?.reasons).toEqual(["lag"]);
  });

  it("silence and lag together: since the earlier of the two", () => {
    const { freshness } = setup();
    freshness.setApplied(1);
    freshness.watch();
    vi.advanceTimersByTime(18_000);
    freshness.exists(4);
    vi.advanceTimersByTime(LAG_GRACE_MS);
    expect(freshness.delay).toEqual({ reasons: ["silence", "lag"], since: T0 });
    freshness.heard(4, 10);
    expect(freshness.delay).toEqual({ reasons: ["lag"], since: T0 + 18_000 });
    freshness.setApplied(4);
    expect(freshness.delay).toBeNull();
  });

  it("is not judged while paused; a lag known when the watch begins starts then", () => {
    const { freshness, onLagging } = setup();
    freshness.setApplied(2);
    freshness.heard(5, 10); // during a resync, say
    vi.advanceTimersByTime(LAG_GRACE_MS * 2);
    expect(onLagging).not.toHaveBeenCalled();
    freshness.watch();
    vi.advanceTimersByTime(LAG_GRACE_MS);
    expect(onLagging).toHaveBeenCalledTimes(1);
    expect(freshness.delay).toEqual({ reasons: ["lag"], since: T0 + LAG_GRACE_MS * 2 });
  });

  it("stop ends everything", () => {
    const { freshness, onLagging, onChange } = setup();
    freshness.setApplied(2);
    freshness.watch();
    freshness.heard(5, 10);
    freshness.stop();
    vi.advanceTimersByTime(60_000);
    freshness.watch();
    expect(freshness.delay).toBeNull();
    expect(onLagging).not.toHaveBeenCalled();
    expect(onChange).not.toHaveBeenCalled();
  });
});

describe("recovery", () => {
  it("a sync after a silence that is ahead keeps the page delayed (no grace), from the same start", () => {
    const { freshness, onLagging } = setup();
    freshness.setApplied(5);
    freshness.watch();
    freshness.heard(5, 10);
    vi.advanceTimersByTime(24_000);
    expect(freshness.delay).toEqual({ reasons: ["silence"], since: T0 });
    freshness.heard(8, 10);
    expect(freshness.delay).toEqual({ reasons: ["lag"], since: T0 });
    // The events arrive: live.
    freshness.setApplied(7);
    expect(freshness.delay).not.toBeNull();
    freshness.setApplied(8);
    expect(freshness.delay).toBeNull();
    expect(onLagging).not.toHaveBeenCalled();
  });

  it("…and if they do not come within the grace, asks for the snapshot", () => {
    const { freshness, onLagging } = setup();
    freshness.setApplied(5);
    freshness.watch();
    vi.advanceTimersByTime(30_000);
    freshness.heard(8, 10);
    vi.advanceTimersByTime(LAG_GRACE_MS);
    expect(onLagging).toHaveBeenCalledTimes(1);
    expect(freshness.delay).toEqual({ reasons: ["lag"], since: T0 });
  });
});
