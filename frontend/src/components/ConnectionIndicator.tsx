import { countdownText, delayedSeconds, type ConnectionView } from "../connection";

const LABELS: Record<ConnectionView["state"], string> = {
  live: "Live",
  delayed: "Delayed",
  reconnecting: "Reconnecting",
  polling: "Polling",
  offline: "Offline",
};

interface Props {
  view: ConnectionView;
  now: number;
  onRetry(): void;
}

export function ConnectionIndicator({ view, now, onRetry }: Props) {
  const current = Math.max(now, Date.now());
  // Live or delayed: the socket is up, there is nothing to reconnect.
  const connected = view.state === "live" || view.state === "delayed";
  const delayed = view.state === "delayed" ? delayedSeconds(view, current) : null;
  return (
    <div className={`connection state-${view.state}`} aria-live="polite">
      <span
        data-testid="connection-status"
        data-state={view.state}
        className="pill"
        title={
          delayed !== null
            ? `Connected, but the server's updates have not reached this page for ${delayed}s: calls shown may be out of date.`
            : undefined
        }
      >
        <span className="dot" aria-hidden="true" />
        {delayed !== null ? `${LABELS.delayed} · ${delayed}s` : LABELS[view.state]}
      </span>
      {!connected && (
        <span data-testid="reconnect-countdown" className="countdown">
          {countdownText(view, current)}
        </span>
      )}
      {!connected && view.phase === "waiting" && (
        <button type="button" className="link" onClick={onRetry}>
          Retry now
        </button>
      )}
    </div>
  );
}
