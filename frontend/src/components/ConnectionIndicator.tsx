import { countdownText, type ConnectionView } from "../connection";

const LABELS: Record<ConnectionView["state"], string> = {
  live: "Live",
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
  const live = view.state === "live";
  return (
    <div className={`connection state-${view.state}`} aria-live="polite">
      <span data-testid="connection-status" data-state={view.state} className="pill">
        <span className="dot" aria-hidden="true" />
        {LABELS[view.state]}
      </span>
      {!live && (
        <span data-testid="reconnect-countdown" className="countdown">
          {countdownText(view, Math.max(now, Date.now()))}
        </span>
      )}
      {!live && view.phase === "waiting" && (
        <button type="button" className="link" onClick={onRetry}>
          Retry now
        </button>
      )}
    </div>
  );
}
