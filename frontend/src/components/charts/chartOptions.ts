// The two charts' uPlot options, in the dashboard's colours (styles.css: --green, --red, --accent).

import uPlot from "uplot";
import { COUNT_STEPS, countAxisMax, countTicks, hourTicks } from "../../charts";
import type { ChartContext } from "./UPlotChart";

export const ANSWERED_COLOUR = "#137333";
export const MISSED_COLOUR = "#b42318";
export const WAIT_COLOUR = "#1f5fd1";
const INK = "#5b6776";
const GRID = "#e2e7ee";
const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const LABEL_FONT = '600 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

function bars(): uPlot.Series.PathBuilder | undefined {
  return uPlot.paths.bars?.({ size: [0.72, 48], gap: 1 });
}

function common(context: ChartContext): Pick<uPlot.Options, "width" | "height" | "legend" | "cursor" | "select" | "hooks"> {
  return {
    width: context.width,
    height: context.height,
    legend: { show: false },
    cursor: { y: false, points: { show: false }, drag: { x: false, y: false, setScale: false } },
    select: { show: false, left: 0, top: 0, width: 0, height: 0 },
    hooks: { setCursor: [(u) => context.hover(u.cursor.idx ?? null)] },
  };
}

const countAxis: uPlot.Axis = {
  stroke: INK,
  font: FONT,
  size: 44,
  grid: { stroke: GRID, width: 1 },
  ticks: { show: false },
  incrs: [...COUNT_STEPS],
  values: (_u, splits) => countTicks(splits),
};

const countScale: uPlot.Scale = { range: (_u, _min, max) => [0, countAxisMax(max)] };

/** The x axis of a bar chart: its label, no grid, and how its ticks are placed and named. */
function categoryAxis(label: string, ticks: Pick<uPlot.Axis, "incrs" | "space" | "splits" | "values">): uPlot.Axis {
  return {
    stroke: INK,
    font: FONT,
    labelFont: LABEL_FONT,
    label,
    labelSize: 22,
    grid: { show: false },
    ticks: { stroke: GRID },
    ...ticks,
  };
}

/** Calls per hour: stacked bars, answered below, missed above (data: hourChartData). */
export function hourChartOptions(context: ChartContext): uPlot.Options {
  const paths = bars();
  return {
    ...common(context),
    scales: { x: { time: false, range: [-0.5, 23.5] }, y: countScale },
    axes: [
      categoryAxis("Hour of the day (UTC)", {
        incrs: [1, 2, 3, 4, 6, 12],
        space: 28,
        values: (_u, splits) => hourTicks(splits),
      }),
      countAxis,
    ],
    series: [
      {},
      { label: "Missed", fill: MISSED_COLOUR, stroke: MISSED_COLOUR, width: 0, paths, points: { show: false } },
      { label: "Answered", fill: ANSWERED_COLOUR, stroke: ANSWERED_COLOUR, width: 0, paths, points: { show: false } },
    ],
  };
}

const buckets = (u: uPlot) => u.data[0]?.length ?? 0;

/** Time to answer: one bar a bucket, labelled from the component's labels (data: answerChartData). */
export function answerChartOptions(context: ChartContext): uPlot.Options {
  return {
    ...common(context),
    scales: {
      x: { time: false, range: (u) => [-0.5, Math.max(1, buckets(u)) - 0.5] },
      y: countScale,
    },
    axes: [
      categoryAxis("Seconds from arrival to answer", {
        splits: (u) => Array.from({ length: buckets(u) }, (_, index) => index),
        values: (_u, splits) => splits.map((index) => context.label(index)),
      }),
      countAxis,
    ],
    series: [
      {},
      { label: "Answered calls", fill: WAIT_COLOUR, stroke: WAIT_COLOUR, width: 0, paths: bars(), points: { show: false } },
    ],
  };
}
