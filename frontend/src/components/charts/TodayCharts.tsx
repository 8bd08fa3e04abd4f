// Today's picture (UTC): calls per hour, answered against missed, and how long answers took.

import { type ReactNode, useMemo, useState } from "react";
import {
  answerChartData,
  answerReadout,
  answerSeries,
  answerSummary,
  hourChartData,
  hourReadout,
  hourSeries,
  hourSpan,
  hourSummary,
  hourTotals,
} from "../../charts";
import type { Statistics } from "../../types";
import { ANSWERED_COLOUR, MISSED_COLOUR, WAIT_COLOUR, answerChartOptions, hourChartOptions } from "./chartOptions";
import { UPlotChart } from "./UPlotChart";
import "./charts.css";

export interface TodayChartsProps {
  /** GET /call-logs/statistics, refreshed by the controller (every 10 s and after calls end). */
  stats: Statistics | null;
}

const CHART_HEIGHT = 220;

export function TodayCharts({ stats }: TodayChartsProps) {
  return (
    <div className="today-charts" data-testid="today-charts">
      <CallsPerHour stats={stats} />
      <TimeToAnswer stats={stats} />
    </div>
  );
}

interface ChartCardProps {
  /** The card's test id; its heading's id is derived from it. */
  id: string;
  title: string;
  /** One line in words: what a screen reader hears of the chart, besides the table. */
  summary: string;
  /** The figures the browser tests read, as ``data-*`` attributes. */
  data: Record<`data-${string}`, string | number>;
  legend: ReactNode;
  chart: ReactNode;
  readout: string;
  /** The visually hidden table of the same figures. */
  children: ReactNode;
}

/** The frame both charts share: heading, summary, legend, the chart, its hover readout, the hidden table. */
function ChartCard({ id, title, summary, data, legend, chart, readout, children }: ChartCardProps) {
  return (
    <section className="card panel chart-card" aria-labelledby={`${id}-title`} data-testid={id} {...data}>
      <h2 id={`${id}-title`}>{title}</h2>
      <p className="chart-summary muted">{summary}</p>
      <ul className="chart-legend" aria-hidden="true">
        {legend}
      </ul>
      {chart}
      <p className="chart-readout muted" aria-hidden="true">
        {readout}
      </p>
      {children}
    </section>
  );
}

function Swatch({ colour, label, value }: { colour: string; label: string; value: number }) {
  return (
    <li>
      <span className="chart-swatch" style={{ background: colour }} aria-hidden="true" />
      {label} <strong>{value.toLocaleString("en")}</strong>
    </li>
  );
}

function CallsPerHour({ stats }: TodayChartsProps) {
  const perHour = stats?.per_hour;
  const series = useMemo(() => hourSeries(perHour), [perHour]);
  const data = useMemo(() => hourChartData(series), [series]);
  const totals = hourTotals(series);
  const [hovered, setHovered] = useState<number | null>(null);
  const busyHours = series.hours.filter((hour) => (series.total[hour] ?? 0) > 0 || (series.missed[hour] ?? 0) > 0);

  return (
    <ChartCard
      id="calls-per-hour"
      title="Calls per hour today"
      summary={hourSummary(series)}
      data={{
        "data-total": totals.total,
        "data-answered": totals.answered,
        "data-missed": totals.missed,
        "data-hours": series.total.join(","),
        "data-figures": Array.isArray(perHour) ? "yes" : "none",
      }}
      legend={
        <>
          <Swatch colour={ANSWERED_COLOUR} label="Answered" value={totals.answered} />
          <Swatch colour={MISSED_COLOUR} label="Missed" value={totals.missed} />
          <li>
            All calls <strong>{totals.total.toLocaleString("en")}</strong>
          </li>
        </>
      }
      chart={<UPlotChart options={hourChartOptions} data={data} height={CHART_HEIGHT} onHover={setHovered} />}
      readout={hovered !== null ? hourReadout(series, hovered) : "Hours are UTC, the API's day."}
    >
      <table className="sr-only">
        <caption>Calls per hour today, UTC</caption>
        <thead>
          <tr>
            <th scope="col">Hour (UTC)</th>
            <th scope="col">Calls</th>
            <th scope="col">Answered</th>
            <th scope="col">Missed</th>
          </tr>
        </thead>
        <tbody>
          {busyHours.length === 0 ? (
            <tr>
              <td colSpan={4}>No calls yet today.</td>
            </tr>
          ) : (
            busyHours.map((hour) => (
              <tr key={hour}>
                <th scope="row">{hourSpan(hour)}</th>
                <td>{series.total[hour]}</td>
                <td>{series.answered[hour]}</td>
                <td>{series.missed[hour]}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </ChartCard>
  );
}

function TimeToAnswer({ stats }: TodayChartsProps) {
  const buckets = stats?.time_to_answer;
  const series = useMemo(() => answerSeries(buckets), [buckets]);
  const data = useMemo(() => answerChartData(series), [series]);
  const [hovered, setHovered] = useState<number | null>(null);

  return (
    <ChartCard
      id="time-to-answer"
      title="Time to answer today"
      summary={answerSummary(series)}
      data={{
        "data-total": series.total,
        "data-counts": series.counts.join(","),
        "data-figures": Array.isArray(buckets) ? "yes" : "none",
      }}
      legend={<Swatch colour={WAIT_COLOUR} label="Answered calls" value={series.total} />}
      chart={
        <UPlotChart
          options={answerChartOptions}
          data={data}
          labels={series.labels}
          height={CHART_HEIGHT}
          onHover={setHovered}
        />
      }
      readout={hovered !== null ? answerReadout(series, hovered) : "Seconds from a call's arrival to its answer."}
    >
      <table className="sr-only">
        <caption>Answered calls today by time to answer</caption>
        <thead>
          <tr>
            <th scope="col">Answered within</th>
            <th scope="col">Calls</th>
          </tr>
        </thead>
        <tbody>
          {series.labels.map((label, index) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td>{series.counts[index]}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ChartCard>
  );
}
