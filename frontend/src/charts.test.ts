import { describe, expect, it } from "vitest";
import {
  answerChartData,
  answerReadout,
  answerSeries,
  answerSummary,
  bucketLabel,
  countAxisMax,
  countTicks,
  hourChartData,
  hourLabel,
  hourReadout,
  hourSeries,
  hourSpan,
  hourSummary,
  hourTicks,
  hourTotals,
} from "./charts";
import type { HourFigures } from "./types";

function day(figures: Partial<Record<number, [total: number, answered: number, missed: number]>>): HourFigures[] {
  return Array.from({ length: 24 }, (_, hour) => {
    const [total, answered, missed] = figures[hour] ?? [0, 0, 0];
    return { hour, total, answered, missed };
  });
}

describe("calls per hour", () => {
  it("shapes the API's 24 hours for stacked bars: missed on top of answered", () => {
    const series = hourSeries(day({ 9: [4, 3, 1], 14: [6, 4, 1], 23: [2, 1, 1] }));
    expect(series.hours).toEqual(Array.from({ length: 24 }, (_, hour) => hour));
    expect(series.total[14]).toBe(6);
    const [x, top, answered] = hourChartData(series);
    expect(x).toHaveLength(24);
    expect(top[9]).toBe(4);
    expect(answered[9]).toBe(3);
    expect(top[14]).toBe(5); // one call still going: neither answered-and-ended nor missed
    expect(top[0]).toBe(0);
    expect(hourTotals(series)).toEqual({ total: 12, answered: 8, missed: 3 });
  });

  it("draws an empty day when the server sends no hours", () => {
    for (const perHour of [undefined, null, []]) {
      const series = hourSeries(perHour);
      expect(series.total).toEqual(new Array(24).fill(0));
      expect(hourTotals(series)).toEqual({ total: 0, answered: 0, missed: 0 });
    }
  });

  it("places hours by their number, ignoring ones out of the day and bad counts", () => {
    const series = hourSeries([
      { hour: 5, total: 2, answered: 1, missed: 1 },
      { hour: 24, total: 9, answered: 9, missed: 0 },
      { hour: -1, total: 9, answered: 9, missed: 0 },
      { hour: 1.5, total: 9, answered: 9, missed: 0 },
      { hour: 7, total: Number.NaN, answered: -3, missed: 2 },
    ]);
    expect(hourTotals(series)).toEqual({ total: 2, answered: 1, missed: 3 });
    expect(series.missed[7]).toBe(2);
    expect(series.total[7]).toBe(0);
  });

  it("labels hours in UTC terms", () => {
    expect(hourLabel(0)).toBe("00:00");
    expect(hourSpan(14)).toBe("14:00–15:00");
    expect(hourSpan(23)).toBe("23:00–24:00");
    expect(hourTicks([0, 6, 12, 18, 23.5, -0.5])).toEqual(["00", "06", "12", "18", "", ""]);
  });

  it("says it in words", () => {
    expect(hourSummary(hourSeries(undefined))).toBe("No calls yet today (UTC).");
    const series = hourSeries(day({ 9: [4, 3, 1], 14: [6, 4, 1] }));
    expect(hourSummary(series)).toBe(
      "10 calls today (UTC): 7 answered, 2 missed. Busiest hour 14:00–15:00 UTC with 6 calls.",
    );
    expect(hourReadout(series, 9)).toBe("09:00–10:00 UTC: 4 calls, 3 answered, 1 missed");
    expect(hourReadout(series, 24)).toBe("");
  });
});

describe("time to answer", () => {
  it("labels the API's buckets, the open one after the last bound", () => {
    const series = answerSeries([
      { le: 5, count: 4 },
      { le: 10, count: 3 },
      { le: 20, count: 0 },
      { le: 30, count: 1 },
      { le: 60, count: 0 },
      { le: null, count: 2 },
    ]);
    expect(series.labels).toEqual(["≤5 s", "≤10 s", "≤20 s", "≤30 s", "≤60 s", ">60 s"]);
    expect(series.total).toBe(10);
    expect(answerChartData(series)).toEqual([
      [0, 1, 2, 3, 4, 5],
      [4, 3, 0, 1, 0, 2],
    ]);
  });

  it("shows the standard buckets, empty, when the server sends none", () => {
    for (const buckets of [undefined, null, []]) {
      const series = answerSeries(buckets);
      expect(series.labels).toEqual(["≤5 s", "≤10 s", "≤20 s", "≤30 s", "≤60 s", ">60 s"]);
      expect(series.counts).toEqual([0, 0, 0, 0, 0, 0]);
    }
  });

  it("orders buckets by bound and copes with odd ones", () => {
    const series = answerSeries([
      { le: null, count: 1 },
      { le: 15, count: 2 },
      { le: 3, count: -1 },
    ]);
    expect(series.labels).toEqual(["≤3 s", "≤15 s", ">15 s"]);
    expect(series.counts).toEqual([0, 2, 1]);
    expect(bucketLabel(null, null)).toBe("longer");
  });

  it("says it in words", () => {
    expect(answerSummary(answerSeries(undefined))).toBe("No calls answered yet today (UTC).");
    const series = answerSeries([
      { le: 5, count: 1 },
      { le: null, count: 1 },
    ]);
    expect(answerSummary(series)).toBe("2 calls answered today (UTC), by time to answer: ≤5 s: 1, >5 s: 1.");
    expect(answerReadout(series, 0)).toBe("Answered in ≤5 s: 1 call");
    expect(answerReadout(series, 2)).toBe("");
  });
});

describe("count axis", () => {
  it("starts at zero and leaves room over the tallest bar", () => {
    expect(countAxisMax(0)).toBe(1);
    expect(countAxisMax(Number.NaN)).toBe(1);
    expect(countAxisMax(1)).toBe(2);
    expect(countAxisMax(10)).toBe(11);
  });

  it("labels whole numbers only", () => {
    expect(countTicks([0, 0.5, 1, 1500])).toEqual(["0", "", "1", "1,500"]);
  });
});
