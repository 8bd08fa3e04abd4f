// One uPlot chart: made once on mount, fed new data with setData, sized to its container.

import { useEffect, useEffectEvent, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** What a chart's options may use: its size, and live hooks into the component. */
export interface ChartContext {
  width: number;
  height: number;
  /** The data index under the pointer, or null when it leaves. */
  hover(index: number | null): void;
  /** The current label of x index `index` (for category axes). */
  label(index: number): string;
}

/** Builds a chart's options; called once per mounted chart, so keep it a module-level function. */
export type ChartOptions = (context: ChartContext) => uPlot.Options;

interface Props {
  options: ChartOptions;
  data: uPlot.AlignedData;
  /** Category names of the x indices, for ChartContext.label. */
  labels?: readonly string[];
  height: number;
  onHover?(index: number | null): void;
}

const NO_LABELS: readonly string[] = [];

export function UPlotChart({ options, data, labels = NO_LABELS, height, onHover }: Props) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const currentLabels = useRef<readonly string[]>(labels);
  const hover = useEffectEvent((index: number | null) => onHover?.(index));

  // The chart, once (its data comes from the effect below, which runs right after this one).
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const width = Math.max(1, Math.floor(element.clientWidth));
    const opts = options({
      width,
      height,
      hover: (index) => hover(index),
      label: (index) => currentLabels.current[index] ?? "",
    });
    const empty = opts.series.map((): number[] => []) as uPlot.AlignedData;
    const chart = new uPlot(opts, empty, element);
    plot.current = chart;
    const observer = new ResizeObserver((entries) => {
      const next = Math.max(1, Math.floor(entries[0]?.contentRect.width ?? width));
      if (next !== chart.width) chart.setSize({ width: next, height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [options, height]);

  useEffect(() => {
    currentLabels.current = labels;
    plot.current?.setData(data);
  }, [data, labels]);

  // The figures are in the chart's text and table: the canvas is for the eyes only.
  return <div className="chart-canvas" ref={container} aria-hidden="true" />;
}
