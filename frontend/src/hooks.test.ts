import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "./connection";
import { createTicker } from "./hooks";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2025-01-01T00:00:00.000Z"));
});
afterEach(() => vi.useRealTimers());

describe("the shared ticker", () => {
  it("ticks only while listened to, and every listener sees the same tick", () => {
    const ticker = createTicker(500, systemClock);
    const start = Date.now();
    vi.advanceTimersByTime(2_000);
    expect(ticker.now()).toBe(start); // nobody listens: no timer runs
    const a = vi.fn();
    const b = vi.fn();
    const stopA = ticker.subscribe(a);
    expect(ticker.now()).toBe(start + 2_000); // fresh on the first subscription
    const stopB = ticker.subscribe(b);
    vi.advanceTimersByTime(1_000);
    expect(a).toHaveBeenCalledTimes(2);
    expect(b).toHaveBeenCalledTimes(2);
    expect(ticker.now()).toBe(start + 3_000);
    stopA();
    stopB();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(ticker.now()).toBe(start + 3_000);
  });
});
