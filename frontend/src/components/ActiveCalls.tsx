import { callDurationSeconds, isActiveStatus, isWaitingStatus } from "../calls";
import { answeredByLabel, formatDuration } from "../format";
import { useNow } from "../hooks";
import { useCallPresence } from "../presence";
import { StatusBadge } from "./StatusBadge";

interface Props {
  organizationId: number | string;
}

/** Calls under way (and those that just ended, for a moment), oldest first, with a ticking duration. */
export function ActiveCalls({ organizationId }: Props) {
  const { activeCalls: calls, clockOffsetMs } = useCallPresence(organizationId);
  const serverNow = useNow(500) + clockOffsetMs;
  const active = calls.filter((c) => c.endedAt === null).length;
  return (
    <section className="card panel active-calls" aria-label="Active calls" data-testid="active-calls">
      <h2>
        Active calls <span className="count">{active}</span>
      </h2>
      {calls.length === 0 ? (
        <p className="empty muted">No active calls right now.</p>
      ) : (
        <table className="calls-table">
          <thead>
            <tr>
              <th scope="col">From</th>
              <th scope="col">To</th>
              <th scope="col">Status</th>
              <th scope="col">Answered by</th>
              <th scope="col" className="num">
                Duration
              </th>
            </tr>
          </thead>
          <tbody>
            {calls.map((call) => {
              const ended = call.endedAt !== null || !isActiveStatus(call.status);
              const kind = ended ? "ended" : isWaitingStatus(call.status) ? "waiting" : "talking";
              return (
                <tr
                  key={call.call_id}
                  data-testid="call-row"
                  data-call-id={call.call_id}
                  data-status={call.status}
                  className={`call-row ${kind}`}
                >
                  <td data-label="From" data-testid="call-from" className="mono">
                    {call.from_number ?? "—"}
                  </td>
                  <td data-label="To" data-testid="call-to" className="mono">
                    {call.to_number ?? "—"}
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={call.status} testId="call-status" />
                  </td>
                  <td data-label="Answered by" data-testid="call-answered-by">
                    {call.status === "answered" || call.answered_by
                      ? answeredByLabel(call.answered_by, call.extension_number)
                      : "—"}
                  </td>
                  <td
                    data-label={kind === "waiting" ? "Waiting" : "Duration"}
                    data-testid="call-duration"
                    className="num mono"
                  >
                    {formatDuration(callDurationSeconds(call, serverNow))}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
