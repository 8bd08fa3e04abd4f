import { formatClock, formatDuration, statusLabel } from "../format";
import type { CallLog } from "../types";

export function RecentCalls({ calls }: { calls: CallLog[] }) {
  return (
    <section className="card panel" aria-label="Recent calls">
      <h2>Recent calls</h2>
      {calls.length === 0 ? (
        <p className="empty muted">No calls yet.</p>
      ) : (
        <ul className="recent">
          {calls.map((c) => (
            <li
              key={c.call_id}
              data-testid="recent-call"
              data-call-id={c.call_id}
              data-status={c.status}
              className="recent-item"
            >
              <div className="recent-main">
                <span className="mono">{c.from_number ?? "—"}</span>
                <span className="muted"> → </span>
                <span className="mono">{c.to_number ?? "—"}</span>
              </div>
              <div className="recent-meta">
                <span className={`badge status-${c.status}`}>{statusLabel(c.status)}</span>
                {c.answered_by && <span className="muted">{c.answered_by.name}</span>}
                <span className="muted mono">
                  {c.duration !== null ? formatDuration(c.duration) : ""}
                </span>
                <span className="muted">{formatClock(c.ended_at ?? c.initiated_at)}</span>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
