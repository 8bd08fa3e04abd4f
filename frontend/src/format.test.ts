import { describe, expect, it } from "vitest";
import {
  answeredByLabel,
  clockOffsetMs,
  formatClock,
  formatDuration,
  formatOptionalDuration,
  statusLabel,
} from "./format";

describe("format", () => {
  it("formats a duration that may be missing", () => {
    expect(formatOptionalDuration(754)).toBe("12:34");
    expect(formatOptionalDuration(0)).toBe("0:00");
    expect(formatOptionalDuration(null)).toBe("—");
    expect(formatOptionalDuration(null, "")).toBe("");
  });

  it("formats durations", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(5)).toBe("0:05");
    expect(formatDuration(754)).toBe("12:34");
    expect(formatDuration(3723)).toBe("1:02:03");
    expect(formatDuration(-4)).toBe("0:00");
    expect(formatDuration(Number.NaN)).toBe("0:00");
  });

  it("labels statuses", () => {
    expect(statusLabel("no_answer")).toBe("No answer");
    expect(statusLabel("ringing")).toBe("Ringing");
    expect(statusLabel("on_hold")).toBe("On hold");
  });

  it("labels who answered", () => {
    expect(answeredByLabel({ name: "Ada", extension_number: "101" })).toBe("Ada (ext 101)");
    expect(answeredByLabel({ name: "Ada", extension_number: null })).toBe("Ada");
    expect(answeredByLabel(null, "102")).toBe("ext 102");
    expect(answeredByLabel(null)).toBe("—");
  });

  it("computes the server clock offset", () => {
    const local = Date.parse("2025-01-01T00:00:00.000Z");
    expect(clockOffsetMs("2025-01-01T00:00:02.500Z", local)).toBe(2500);
    expect(clockOffsetMs("2024-12-31T23:59:59.000Z", local)).toBe(-1000);
    expect(clockOffsetMs("garbage", local)).toBe(0);
    expect(clockOffsetMs(null, local)).toBe(0);
  });

  it("formats clock times", () => {
    expect(formatClock(null)).toBe("");
    expect(formatClock("nope")).toBe("");
    expect(formatClock("2025-01-01T10:00:00.000Z", "en-GB")).toMatch(/^\d\d:\d\d:\d\d$/);
  });
});
