import { describe, expect, it } from "vitest";
import { backoffCeilingMs, backoffDelayMs, secondsUntil } from "./backoff";

describe("backoffCeilingMs", () => {
  it("doubles from 1 s and caps at 30 s", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((a) => backoffCeilingMs(a))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });

  it("never overflows for huge attempt numbers", () => {
    expect(backoffCeilingMs(10_000)).toBe(30_000);
    expect(backoffCeilingMs(Number.POSITIVE_INFINITY)).toBe(1000);
    expect(backoffCeilingMs(-3)).toBe(1000);
  });

  it("honours custom base and cap", () => {
    expect(backoffCeilingMs(3, 100, 500)).toBe(500);
    expect(backoffCeilingMs(2, 100, 500)).toBe(400);
  });
});

describe("backoffDelayMs (full jitter)", () => {
  it("is 0 when random is 0 and just under the ceiling when random ~1", () => {
    expect(backoffDelayMs(3, () => 0)).toBe(0);
    expect(backoffDelayMs(3, () => 0.999999)).toBe(7999);
    expect(backoffDelayMs(20, () => 0.5)).toBe(15000);
  });

  it("stays within [0, ceiling) for many random draws", () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      for (let i = 0; i < 200; i++) {
        const d = backoffDelayMs(attempt);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(backoffCeilingMs(attempt));
      }
    }
  });

  it("clamps a misbehaving random source", () => {
    expect(backoffDelayMs(0, () => 2)).toBe(1000);
    expect(backoffDelayMs(0, () => -1)).toBe(0);
  });
});

describe("secondsUntil", () => {
  it("rounds up and never goes negative", () => {
    expect(secondsUntil(10_000, 7_001)).toBe(3);
    expect(secondsUntil(10_000, 10_000)).toBe(0);
    expect(secondsUntil(10_000, 12_000)).toBe(0);
  });
});
