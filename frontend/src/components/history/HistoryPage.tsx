// The call history (/history): filters kept in the URL, a page of calls, one call's detail.

import { useId, useMemo, useRef, useState } from "react";
import type { LiveApi } from "../../api";
import { filtersFromQuery, hasFilters, historyPath, pageInfo, queryFromFilters, withPage } from "../../history";
import { router, useSearch } from "../../navigation";
import type { CallFilters, ExtensionStatus } from "../../types";
import { CallDetailPanel } from "./CallDetailPanel";
import { HistoryFilters } from "./HistoryFilters";
import { HistoryTable, Pager } from "./HistoryTable";
import { useCallPage } from "./useCallPage";
import "./history.css";

export interface HistoryPageProps {
  api: LiveApi;
  /** The organization's extensions, for the extension filter. */
  extensions: readonly ExtensionStatus[];
  /** Bumps whenever the page applies a call event or snapshot: new calls may match the filters. */
  changes: number;
  /** An API call answered 401. */
  onUnauthorized(): void;
}

export function HistoryPage({ api, extensions, changes, onUnauthorized }: HistoryPageProps) {
  const search = useSearch();
  const filters = useMemo(() => filtersFromQuery(search), [search]);
  const query = queryFromFilters(filters);
  const onFirstPage = (filters.page ?? 1) === 1;
  const page = useCallPage(api, query, changes, onFirstPage, onUnauthorized);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const results = useRef<HTMLDivElement>(null);
  const hintId = useId();

  const calls = page.response?.data ?? [];
  const info = page.response ? pageInfo(page.response, filters) : null;
  const selectedStatus = calls.find((call) => call.call_id === selectedId)?.status ?? null;
  const state = page.loading ? "loading" : page.error && !page.response ? "error" : "ready";

  const go = (next: CallFilters) => router.navigate(historyPath(next));

  function close() {
    const id = selectedId;
    setSelectedId(null);
    // Back to the row the detail was opened from, when it is still shown.
    const row = id ? results.current?.querySelector<HTMLElement>(`[data-call-id="${CSS.escape(id)}"]`) : null;
    row?.focus();
  }

  return (
    <section className="history" data-testid="history" aria-labelledby="history-title">
      <div className="page-head">
        <h2 id="history-title">Call history</h2>
        <span className="muted">Newest first. Times are yours; days are UTC days.</span>
      </div>

      <HistoryFilters filters={filters} extensions={extensions} onApply={go} />

      <div className={selectedId ? "history-body with-detail" : "history-body"}>
        <section
          className="card panel history-results"
          aria-labelledby="history-results-title"
          aria-busy={page.loading}
          data-testid="history-results"
          data-state={state}
          data-query={query}
        >
          <h2 id="history-results-title">
            Calls
            {info?.total !== null && info?.total !== undefined && <span className="count">{info.total}</span>}
          </h2>
          <p id={hintId} className="sr-only">
            Press Enter on a call to see its timeline and provider records.
          </p>
          {page.error && (
            <div className="history-error">
              <p className="error" role="alert" data-testid="history-error">
                {page.error}
              </p>
              <button type="button" className="ghost small" onClick={page.retry}>
                Try again
              </button>
            </div>
          )}
          {page.loading && (
            <p className="muted empty" role="status">
              Loading calls…
            </p>
          )}
          {!page.loading && page.response && calls.length === 0 && (
            <p className="muted empty" data-testid="history-empty">
              {info && info.page > 1
                ? "No calls on this page."
                : hasFilters(filters)
                  ? "No calls match these filters."
                  : "No calls yet."}
            </p>
          )}
          <div ref={results}>
            {calls.length > 0 && (
              <HistoryTable calls={calls} selectedId={selectedId} fresh={page.fresh} onOpen={setSelectedId} hintId={hintId} />
            )}
          </div>
          {info && (calls.length > 0 || info.page > 1) && (
            <Pager info={info} onPage={(next) => go(withPage(filters, next))} />
          )}
        </section>

        {selectedId && (
          <CallDetailPanel
            api={api}
            callId={selectedId}
            status={selectedStatus}
            onClose={close}
            onUnauthorized={onUnauthorized}
          />
        )}
      </div>
    </section>
  );
}
