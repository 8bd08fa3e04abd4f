// The history's results: one row a call (open its detail by click, Enter or Space), and the pages.

import type { KeyboardEvent } from "react";
import { answeredByLabel, formatOptionalDuration } from "../../format";
import { directionLabel, formatMoment, pageSummary, type PageInfo } from "../../history";
import type { CallLog } from "../../types";
import { StatusBadge } from "../StatusBadge";

interface TableProps {
  calls: readonly CallLog[];
  selectedId: string | null;
  /** Calls a live re-read brought: marked for a moment. */
  fresh: readonly string[];
  onOpen(callId: string): void;
  /** id of the text that tells how to open a call (for aria-describedby). */
  hintId: string;
}

function openKey(event: KeyboardEvent<HTMLTableRowElement>, open: () => void) {
  if (event.target !== event.currentTarget) return;
  if (event.key === "Enter" || event.key === " " || event.key === "Spacebar") {
    event.preventDefault();
    open();
  }
}

export function HistoryTable({ calls, selectedId, fresh, onOpen, hintId }: TableProps) {
  return (
    <div className="history-table-wrap">
      <table className="calls-table history-table">
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">From</th>
            <th scope="col">To</th>
            <th scope="col">Direction</th>
            <th scope="col">Status</th>
            <th scope="col">Extension / answered by</th>
            <th scope="col" className="num">
              Duration
            </th>
          </tr>
        </thead>
        <tbody>
          {calls.map((call) => {
            const selected = call.call_id === selectedId;
            const classes = ["history-row", selected ? "selected" : "", fresh.includes(call.call_id) ? "fresh" : ""];
            return (
              <tr
                key={call.call_id}
                className={classes.filter(Boolean).join(" ")}
                data-testid="history-row"
                data-call-id={call.call_id}
                data-status={call.status}
                data-selected={selected ? "true" : undefined}
                tabIndex={0}
                aria-describedby={hintId}
                onClick={() => onOpen(call.call_id)}
                onKeyDown={(event) => openKey(event, () => onOpen(call.call_id))}
              >
                <td data-label="Started">
                  {call.initiated_at ? <time dateTime={call.initiated_at}>{formatMoment(call.initiated_at)}</time> : "—"}
                </td>
                <td data-label="From" className="mono">
                  {call.from_number ?? "—"}
                </td>
                <td data-label="To" className="mono">
                  {call.to_number ?? "—"}
                </td>
                <td data-label="Direction">{directionLabel(call.direction)}</td>
                <td data-label="Status">
                  <StatusBadge status={call.status} />
                </td>
                <td data-label="Extension">{answeredByLabel(call.answered_by, call.extension?.number ?? null)}</td>
                <td data-label="Duration" className="num mono">
                  {formatOptionalDuration(call.duration)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

interface PagerProps {
  info: PageInfo;
  onPage(page: number): void;
}

export function Pager({ info, onPage }: PagerProps) {
  // From beyond the last page (an old link), back goes to the last one.
  const previous = info.lastPage !== null ? Math.min(info.page - 1, info.lastPage) : info.page - 1;
  return (
    <nav className="history-pager" aria-label="Pages of calls">
      <button
        type="button"
        className="ghost"
        data-testid="history-prev"
        disabled={!info.hasPrevious}
        onClick={() => onPage(previous)}
      >
        <span aria-hidden="true">← </span>
        Previous page
      </button>
      <span className="history-pager-summary muted" data-testid="history-pages" aria-live="polite">
        {pageSummary(info)}
      </span>
      <button
        type="button"
        className="ghost"
        data-testid="history-next"
        disabled={!info.hasNext}
        onClick={() => onPage(info.page + 1)}
      >
        Next page
        <span aria-hidden="true"> →</span>
      </button>
    </nav>
  );
}
