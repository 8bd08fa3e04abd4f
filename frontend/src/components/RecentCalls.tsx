import { formatClock, formatOptionalDuration } from "../format";
import { useCallPresence } from "../presence";
import { shownAt } from "../recent";
import { StatusBadge } from "./StatusBadge";

interface Props {
  organizationId: number | string;
}

/** The latest calls, by the time each shows (its end, else its start), newest first. */
export function RecentCalls({ organizationId }: Props) {
  const { recent: calls } = useCallPresence(organizationId);
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
                <span className="muted" aria-hidden="true">
                  {" → "}
                </span>
                <span className="sr-only"> to </span>
                <span className="mono">{c.to_number ?? "—"}</span>
              </div>
              <div className="recent-meta">
                <StatusBadge status={c.status} />
                {c.answered_by && <span className="muted">{c.answered_by.name}</span>}
                <span className="muted mono">{formatOptionalDuration(c.duration, "")}</span>
                <time className="muted" dateTime={shownAt(c) ?? undefined}>
                  {formatClock(shownAt(c))}
                </time>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
