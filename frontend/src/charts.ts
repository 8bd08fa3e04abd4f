// Today's charts, the pure part: the statistics API's figures shaped for uPlot, and in words.

import type { AnswerTimeBucket, HourFigures } from "./types";

export const HOURS_A_DAY = 24;

/** The API's time-to-answer buckets (seconds, inclusive upper bounds; null: longer). */
export const ANSWER_BUCKETS: readonly (number | null)[] = [5, 10, 20, 30, 60, null];

/** Today's calls by the UTC hour they began, hour 0 to 23. */
export interface HourSeries {
  hours: number[];
  total: number[];
  answered: number[];
  missed: number[];
}

export interface Totals {
  total: number;
  answered: number;
  missed: number;
}

/** Today's answered calls by how long they waited. */
export interface AnswerSeries {
  /** "≤5 s", "≤10 s", …, ">60 s". */
  labels: string[];
  counts: number[];
  total: number;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/**
 * The 24 hours, each with its figures: hours the API leaves out (or a server that sends no
 * `per_hour`) count zero; entries for hours that are not 0-23 are ignored.
 */
export function hourSeries(perHour: readonly HourFigures[] | null | undefined): HourSeries {
  const series: HourSeries = {
    hours: Array.from({ length: HOURS_A_DAY }, (_, hour) => hour),
    total: new Array<number>(HOURS_A_DAY).fill(0),
    answered: new Array<number>(HOURS_A_DAY).fill(0),
    missed: new Array<number>(HOURS_A_DAY).fill(0),
  };
  for (const figures of Array.isArray(perHour) ? perHour : []) {
    const hour = figures?.hour;
    if (typeof hour !== "number" || !Number.isInteger(hour) || hour < 0 || hour >= HOURS_A_DAY) continue;
    series.total[hour] = (series.total[hour] ?? 0) + count(figures.total);
    series.answered[hour] = (series.answered[hour] ?? 0) + count(figures.answered);
    series.missed[hour] = (series.missed[hour] ?? 0) + count(figures.missed);
  }
  return series;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

export function hourTotals(series: HourSeries): Totals {
  return { total: sum(series.total), answered: sum(series.answered), missed: sum(series.missed) };
}

/**
 * uPlot's data for the stacked bars: x (the hours), then the top of each stack (answered +
 * missed, drawn first in the missed colour), then answered (drawn over its lower part).
 */
export function hourChartData(series: HourSeries): [number[], number[], number[]] {
  return [series.hours, series.answered.map((answered, hour) => answered + (series.missed[hour] ?? 0)), series.answered];
}

/** "14:00". */
export function hourLabel(hour: number): string {
  return `${String(hour).padStart(2, "0")}:00`;
}

/** "14:00–15:00" (the last: "23:00–24:00"). */
export function hourSpan(hour: number): string {
  return `${hourLabel(hour)}–${String(hour + 1).padStart(2, "0")}:00`;
}

/** "≤5 s" for a bound, ">60 s" for the open bucket after `previous`. */
export function bucketLabel(le: number | null, previous: number | null): string {
  if (le !== null) return `≤${le} s`;
  return previous !== null ? `>${previous} s` : "longer";
}

/**
 * The buckets in the API's order of bounds (the open one last), labelled; the API's standard
 * buckets, all zero, when the server sends none.
 */
export function answerSeries(buckets: readonly AnswerTimeBucket[] | null | undefined): AnswerSeries {
  const given = Array.isArray(buckets) && buckets.length > 0 ? buckets : ANSWER_BUCKETS.map((le) => ({ le, count: 0 }));
  const valid = given.filter((bucket) => bucket && (bucket.le === null || Number.isFinite(bucket.le)));
  const ordered = [...valid].sort((a, b) => (a.le ?? Infinity) - (b.le ?? Infinity));
  const labels: string[] = [];
  const counts: number[] = [];
  let previous: number | null = null;
  for (const bucket of ordered) {
    labels.push(bucketLabel(bucket.le, previous));
    counts.push(count(bucket.count));
    if (bucket.le !== null) previous = bucket.le;
  }
  return { labels, counts, total: sum(counts) };
}

/** uPlot's data for the time-to-answer bars: x (bucket 0, 1, …), then the counts. */
export function answerChartData(series: AnswerSeries): [number[], number[]] {
  return [series.counts.map((_, index) => index), series.counts];
}

/** The top of the count axis: at least 1, with a little room above the tallest bar. */
export function countAxisMax(tallest: number): number {
  if (!Number.isFinite(tallest) || tallest <= 0) return 1;
  return Math.ceil(tallest * 1.1);
}

/** Steps for a count axis: whole numbers only. */
export const COUNT_STEPS: readonly number[] = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000];

/** Tick labels for a count axis: whole numbers, nothing between them. */
export function countTicks(splits: readonly number[]): string[] {
  return splits.map((value) => (Number.isInteger(value) ? value.toLocaleString("en") : ""));
}

/** Tick labels for the hour axis: "00", "06", … */
export function hourTicks(splits: readonly number[]): string[] {
  return splits.map((value) =>
    Number.isInteger(value) && value >= 0 && value < HOURS_A_DAY ? String(value).padStart(2, "0") : "",
  );
}

function calls(n: number): string {
  return `${n.toLocaleString("en")} ${n === 1 ? "call" : "calls"}`;
}

/** The per-hour chart in a sentence, for the page and for screen readers. */
export function hourSummary(series: HourSeries): string {
  const totals = hourTotals(series);
  if (totals.total === 0) return "No calls yet today (UTC).";
  let busiest = 0;
  series.total.forEach((value, hour) => {
    if (value > (series.total[busiest] ?? 0)) busiest = hour;
  });
  return (
    `${calls(totals.total)} today (UTC): ${totals.answered.toLocaleString("en")} answered, ` +
    `${totals.missed.toLocaleString("en")} missed. Busiest hour ${hourSpan(busiest)} UTC with ` +
    `${calls(series.total[busiest] ?? 0)}.`
  );
}

/** What the per-hour chart shows at `hour` (under the pointer). */
export function hourReadout(series: HourSeries, hour: number): string {
  const total = series.total[hour];
  if (total === undefined) return "";
  return `${hourSpan(hour)} UTC: ${calls(total)}, ${series.answered[hour] ?? 0} answered, ${series.missed[hour] ?? 0} missed`;
}

/** The time-to-answer chart in a sentence. */
export function answerSummary(series: AnswerSeries): string {
  if (series.total === 0) return "No calls answered yet today (UTC).";
  const parts = series.labels.map((label, index) => `${label}: ${series.counts[index] ?? 0}`);
  return `${calls(series.total)} answered today (UTC), by time to answer: ${parts.join(", ")}.`;
}

/** What the time-to-answer chart shows at bucket `index`. */
export function answerReadout(series: AnswerSeries, index: number): string {
  const label = series.labels[index];
  if (label === undefined) return "";
  return `Answered in ${label}: ${calls(series.counts[index] ?? 0)}`;
}
