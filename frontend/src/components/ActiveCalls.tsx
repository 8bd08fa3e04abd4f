import { callDurationSeconds, isActiveStatus, isWaitingStatus, type CallEntry } from "../calls";
import { answeredByLabel, formatDuration, statusLabel } from "../format";

interface Props {
  calls: CallEntry[];
  serverNow: number;
}

export function ActiveCalls({ calls, serverNow }: Props) {
  return (
    <section className="card panel active-calls" aria-label="Active calls">
      <h2>
        Active calls <span className="count">{calls.filter((c) => c.endedAt === null).length}</span>
      </h2>
      {calls.length === 0 ? (
        <p className="empty muted">No active calls right now.</p>
      ) : (
        <table className="calls-table">
          <thead>
            <tr>
              <th>From</th>
              <th>To</th>
              <th>Status</th>
              <th>Answered by</th>
              <th className="num">Duration</th>
            </tr>
          </thead>
          <tbody>
            {calls.map((call) => {
              const ended = call.endedAt !== null || !isActiveStatus(call.status);
              const kind = ended ? "ended" : isWaitingStatus(call.status) ? "waiting" : "talking";
              return (
                <tr
                  key={call.call_id}
                  data-testid="active-call"
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
                    <span data-testid="call-status" className={`badge status-${call.status}`}>
                      {statusLabel(call.status)}
                    </span>
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
