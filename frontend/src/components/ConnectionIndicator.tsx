import { countdownText, delayedSeconds, type ConnectionState } from "../connection";
import { useNow } from "../hooks";
import { useWebSocketConnection } from "../presence";

const LABELS: Record<ConnectionState, string> = {
  live: "Live",
  delayed: "Delayed",
  reconnecting: "Reconnecting",
  polling: "Polling",
  offline: "Offline",
};

/** The header's connection pill: live, delayed (for how long), or the way back (countdown, retry). */
export function ConnectionIndicator() {
  const { state, view, retryNow } = useWebSocketConnection();
  // A quarter second: the countdown and the delay count whole seconds and stay close to the truth.
  const now = useNow(250);
  // Live or delayed: the socket is up, there is nothing to reconnect.
  const connected = state === "live" || state === "delayed";
  const delayed = state === "delayed" ? delayedSeconds(view, now) : null;
  return (
    <div className={`connection state-${state}`} data-testid="connection" data-state={state}>
      {/* Announced once per change of state, not every second the pill counts. */}
      <span className="sr-only" role="status">
        Connection: {LABELS[state]}
      </span>
      <span
        data-testid="connection-status"
        data-state={state}
        className="pill"
        title={
          delayed !== null
            ? `Connected, but the server's updates have not reached this page for ${delayed}s: calls shown may be out of date.`
            : undefined
        }
      >
        <span className="dot" aria-hidden="true" />
        {delayed !== null ? `${LABELS.delayed} · ${delayed}s` : LABELS[state]}
      </span>
      {!connected && (
        <span data-testid="reconnect-countdown" className="countdown">
          {countdownText(view, now)}
        </span>
      )}
      {!connected && view.phase === "waiting" && (
        <button type="button" className="link" onClick={retryNow}>
          Retry now
        </button>
      )}
    </div>
  );
}
