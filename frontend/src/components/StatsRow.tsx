import { liveStats } from "../calls";
import { formatDuration } from "../format";
import { useNow } from "../hooks";
import { useCallPresence } from "../presence";

interface Props {
  organizationId: number | string;
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

/** The wallboard: live counts from the calls on the page, today's from the statistics API. */
export function StatsRow({ organizationId }: Props) {
  const { activeCalls, stats, clockOffsetMs } = useCallPresence(organizationId);
  const live = liveStats(activeCalls, useNow(500) + clockOffsetMs);
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
