// STUB (contract only): replaced by today's charts.
import type { Statistics } from "../../types";

export interface TodayChartsProps {
  /** GET /call-logs/statistics, refreshed by the controller (every 10 s and after calls end). */
  stats: Statistics | null;
}

export function TodayCharts(_props: TodayChartsProps) {
  return <section data-testid="calls-per-hour" />;
}
