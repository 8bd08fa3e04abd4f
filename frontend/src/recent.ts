// The recent calls list: each call shows one time (when it ended, else when it began),
// and the list runs by that time, newest first.

import type { CallLog } from "./types";

/** The time a recent call shows: its end, else its start (null when it has neither). */
export function shownAt(call: Pick<CallLog, "ended_at" | "initiated_at">): string | null {
  return call.ended_at ?? call.initiated_at ?? null;
}

function shownMs(call: CallLog): number {
  const at = shownAt(call);
  const ms = at ? Date.parse(at) : Number.NaN;
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/** Newest shown time first; calls without one go last; ties keep the server's order. */
export function newestShownFirst(calls: readonly CallLog[]): CallLog[] {
  return calls
    .map((call, index) => ({ call, index, ms: shownMs(call) }))
    .sort((a, b) => (b.ms === a.ms ? a.index - b.index : b.ms > a.ms ? 1 : -1))
    .map(({ call }) => call);
}
