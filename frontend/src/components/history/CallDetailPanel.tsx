// One call's detail: what it was, each state it entered with when, and what the provider sent.

import { useEffect, useEffectEvent, useRef, useState, type KeyboardEvent } from "react";
import { isUnauthorized, type LiveApi } from "../../api";
import { answeredByLabel, formatOptionalDuration } from "../../format";
import { directionLabel, elapsedLabel, formatMoment, recordBody, timelineOf } from "../../history";
import type { CallDetail } from "../../types";
import { StatusBadge } from "../StatusBadge";

interface Props {
  api: LiveApi;
  callId: string;
  /**
   * The call's status as the results show it: when a live re-read changes it, the detail is read
   * again (a ringing call's timeline grows).
   */
  status: string | null;
  onClose(): void;
  onUnauthorized(): void;
}

interface Answer {
  key: string;
  detail: CallDetail | null;
  error: string | null;
}

export function CallDetailPanel({ api, callId, status, onClose, onUnauthorized }: Props) {
  const [answer, setAnswer] = useState<Answer | null>(null);
  const unauthorized = useEffectEvent(() => onUnauthorized());
  const heading = useRef<HTMLHeadingElement>(null);
  const key = `${callId}\n${status ?? ""}`;

  useEffect(() => {
    let cancelled = false;
    api.callDetail(callId).then(
      (detail) => {
        if (!cancelled) setAnswer({ key, detail, error: null });
      },
      (error: unknown) => {
        if (cancelled) return;
        if (isUnauthorized(error)) {
          unauthorized();
          return;
        }
        const reason = error instanceof Error && error.message ? error.message : "the server did not answer";
        setAnswer((previous) => ({
          key,
          detail: previous?.detail?.call_id === callId ? previous.detail : null,
          error: `Could not load the call: ${reason}.`,
        }));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, callId, key]);

  // Opening a call (by keyboard too) takes the reader to it.
  useEffect(() => {
    const element = heading.current;
    if (!element) return;
    element.focus({ preventScroll: true });
    element.scrollIntoView?.({ block: "nearest" });
  }, [callId]);

  // While a re-read for a new status is on its way, the call's last answer stays on screen.
  const detail = answer?.detail?.call_id === callId ? answer.detail : null;
  const error = answer?.key === key ? answer.error : null;
  const loading = answer?.key !== key && detail === null;

  function escape(event: KeyboardEvent<HTMLElement>) {
    if (event.key === "Escape") {
      event.stopPropagation();
      onClose();
    }
  }

  return (
    <section
      className="card panel call-detail"
      data-testid="call-detail"
      data-call-id={callId}
      data-state={loading ? "loading" : error && !detail ? "error" : "ready"}
      aria-labelledby="call-detail-title"
      aria-busy={loading}
      onKeyDown={escape}
    >
      <div className="call-detail-head">
        <h2 id="call-detail-title" ref={heading} tabIndex={-1}>
          Call detail
        </h2>
        <button type="button" className="ghost small" data-testid="call-detail-close" onClick={onClose}>
          Close<span className="sr-only"> the call detail</span>
        </button>
      </div>
      {loading && (
        <p className="muted" role="status">
          Loading the call…
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {detail && <DetailBody detail={detail} />}
    </section>
  );
}

function DetailBody({ detail }: { detail: CallDetail }) {
  const timeline = timelineOf(detail);
  const records = Array.isArray(detail.provider_records) ? detail.provider_records : [];
  return (
    <>
      <dl className="call-facts">
        <dt>Call id</dt>
        <dd className="mono call-id">{detail.call_id}</dd>
        <dt>From</dt>
        <dd className="mono">{detail.from_number ?? "—"}</dd>
        <dt>To</dt>
        <dd className="mono">{detail.to_number ?? "—"}</dd>
        <dt>Direction</dt>
        <dd>{directionLabel(detail.direction)}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={detail.status} />
        </dd>
        <dt>Extension / answered by</dt>
        <dd>{answeredByLabel(detail.answered_by, detail.extension?.number ?? null)}</dd>
        <dt>Duration</dt>
        <dd className="mono">{formatOptionalDuration(detail.duration)}</dd>
      </dl>

      <h3>Timeline</h3>
      {timeline.length === 0 ? (
        <p className="muted empty">No states recorded.</p>
      ) : (
        <ol className="timeline" data-testid="timeline">
          {timeline.map((entry, index) => (
            <li key={`${entry.status}-${index}`} data-testid="timeline-entry" data-status={entry.status}>
              <StatusBadge status={entry.status} />
              <time dateTime={entry.at}>{formatMoment(entry.at)}</time>
              {index > 0 && <span className="muted mono">{elapsedLabel(timeline[0]?.at, entry.at)}</span>}
            </li>
          ))}
        </ol>
      )}

      <h3>
        Provider records <span className="count">{records.length}</span>
      </h3>
      {records.length === 0 ? (
        <p className="muted empty">The provider sent nothing for this call.</p>
      ) : (
        <ol className="provider-records">
          {records.map((record, index) => (
            <li key={`${record.kind}-${record.received_at}-${index}`} data-testid="provider-record" data-kind={record.kind}>
              <div className="provider-record-head">
                <strong>{record.kind}</strong>
                <time className="muted" dateTime={record.received_at}>
                  {formatMoment(record.received_at)}
                </time>
              </div>
              <pre className="provider-record-body" tabIndex={0}>
                {recordBody(record.body)}
              </pre>
            </li>
          ))}
        </ol>
      )}
    </>
  );
}
