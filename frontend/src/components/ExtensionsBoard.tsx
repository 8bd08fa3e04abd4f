import { boardSeconds, extensionStateLabel } from "../board";
import { formatDuration } from "../format";
import { useNow } from "../hooks";
import { useCallPresence } from "../presence";

interface Props {
  organizationId: number | string;
}

/**
 * Every extension of the organization: offline, available, ringing (which number, for how
 * long) or on a call (with whom, for how long). The signed-in user's own come first.
 */
export function ExtensionsBoard({ organizationId }: Props) {
  const { extensions, clockOffsetMs } = useCallPresence(organizationId);
  const serverNow = useNow(500) + clockOffsetMs;
  const inUse = extensions.filter((row) => row.state === "ringing" || row.state === "on-call").length;
  return (
    <section className="card panel board" aria-label="Extensions" data-testid="extensions-board">
      <h2>
        Extensions <span className="count">{extensions.length}</span>
        {inUse > 0 && <span className="muted board-busy">{inUse} in use</span>}
      </h2>
      {extensions.length === 0 ? (
        <p className="empty muted">No extensions yet.</p>
      ) : (
        <ul className="board-list">
          {extensions.map((row) => (
            <li
              key={row.id}
              data-testid="extension"
              data-number={row.number}
              data-state={row.state}
              className={`extension ext-${row.state}${row.mine ? " mine" : ""}`}
            >
              <div className="extension-head">
                <span className="extension-number mono">{row.number}</span>
                <span className={`badge ext-badge-${row.state}`} data-testid="extension-state">
                  {extensionStateLabel(row.state)}
                </span>
              </div>
              <div className="extension-user">
                {row.user ? row.user.name : <span className="muted">No user</span>}
                {row.mine && <span className="muted"> (you)</span>}
              </div>
              {row.call && (
                <div className="extension-call">
                  <span className="mono" data-testid="extension-party">
                    <span className="sr-only">{row.call.direction === "outbound" ? "To " : "From "}</span>
                    {row.call.other_number ?? "Unknown number"}
                  </span>
                  <span className="mono" data-testid="extension-duration">
                    <span className="sr-only">for </span>
                    {formatDuration(boardSeconds(row, serverNow))}
                  </span>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
