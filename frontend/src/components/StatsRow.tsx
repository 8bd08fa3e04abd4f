import type { LiveStats } from "../calls";
import { formatDuration } from "../format";
import type { Statistics } from "../types";

interface Props {
  live: LiveStats;
  stats: Statistics | null;
}

function Stat({ label, value, testId, hint }: { label: string; value: number | null; testId: string; hint?: string }) {
  return (
    <div className="stat card">
      <span className="stat-label">{label}</span>
      <span className="stat-value" data-testid={testId}>
        {value ?? 0}
      </span>
      {hint && <span className="stat-hint muted">{hint}</span>}
    </div>
  );
}

export function StatsRow({ live, stats }: Props) {
  return (
    <section className="stats" aria-label="Wallboard">
      <Stat label="Active" value={live.active} testId="stat-active" />
      <Stat label="Ringing" value={live.ringing} testId="stat-ringing" />
      <Stat
        label="Longest wait (s)"
        value={live.longestWait}
        testId="stat-longest-wait"
        hint={live.longestWait > 0 ? formatDuration(live.longestWait) : undefined}
      />
      <Stat label="Answered today" value={stats ? stats.answered : null} testId="stat-answered" />
      <Stat label="Missed today" value={stats ? stats.missed : null} testId="stat-missed" />
    </section>
  );
}
