// The history page's data: one page of calls for the URL's filters, re-read live on page 1.

import { useEffect, useEffectEvent, useRef, useState } from "react";
import { isUnauthorized, type LiveApi } from "../../api";
import { filtersFromQuery, newCallIds } from "../../history";
import type { CallLogsResponse } from "../../types";

/** At most one live re-read a second, however fast calls come. */
export const LIVE_REFRESH_MS = 1000;

interface Answer {
  /** The canonical query it answers (queryFromFilters). */
  query: string;
  response: CallLogsResponse | null;
  error: string | null;
  /** Calls a live re-read brought that the previous answer to the same query did not show. */
  fresh: readonly string[];
}

export interface CallPage {
  /** The answer for the current query; null while it loads. */
  response: CallLogsResponse | null;
  loading: boolean;
  error: string | null;
  fresh: readonly string[];
  retry(): void;
}

function problem(error: unknown): string {
  const reason = error instanceof Error && error.message ? error.message : "the server did not answer";
  return `Could not load the calls: ${reason}.`;
}

/**
 * The page of calls for `query` (a canonical `?status=…` string). When `changes` bumps and `live`
 * (page 1), the page is read again, at most once every LIVE_REFRESH_MS, keeping what it shows
 * until the answer comes; on later pages it stays put.
 */
export function useCallPage(
  api: LiveApi,
  query: string,
  changes: number,
  live: boolean,
  onUnauthorized: () => void,
): CallPage {
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [reads, setReads] = useState(0);
  const unauthorized = useEffectEvent(() => onUnauthorized());

  useEffect(() => {
    let cancelled = false;
    api.callLogs(filtersFromQuery(query)).then(
      (response) => {
        if (cancelled) return;
        setAnswer((previous) => ({
          query,
          response,
          error: null,
          fresh: previous?.query === query && previous.response ? newCallIds(previous.response.data, response.data) : [],
        }));
      },
      (error: unknown) => {
        if (cancelled) return;
        if (isUnauthorized(error)) {
          unauthorized();
          return;
        }
        // A failed re-read keeps the calls already shown, with the error above them.
        setAnswer((previous) => ({
          query,
          response: previous?.query === query ? previous.response : null,
          error: problem(error),
          fresh: [],
        }));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, query, reads]);

  const changesSeen = useRef(changes);
  const lastLiveRead = useRef(0);
  useEffect(() => {
    if (changes === changesSeen.current) return;
    changesSeen.current = changes;
    if (!live) return;
    const wait = Math.max(0, lastLiveRead.current + LIVE_REFRESH_MS - Date.now());
    const timer = setTimeout(() => {
      lastLiveRead.current = Date.now();
      setReads((n) => n + 1);
    }, wait);
    return () => clearTimeout(timer);
  }, [changes, live]);

  const current = answer?.query === query ? answer : null;
  return {
    response: current?.response ?? null,
    loading: current === null,
    error: current?.error ?? null,
    fresh: current?.fresh ?? [],
    retry: () => setReads((n) => n + 1),
  };
}
