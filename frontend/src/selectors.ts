// What the page's public hooks hand out (presence.tsx), selected from the controller's state.
// Pure, and memoised on their inputs: a selector answers with the very same object while
// nothing it reads has changed, so a component re-renders only when its part moves.

import { boardRows, type BoardRow } from "./board";
import { visibleCalls, type CallEntry, type CallsState } from "./calls";
import type { ConnectionState, ConnectionView } from "./connection";
import type { DashboardState } from "./controller";
import type { CallLog, ExtensionStatus, Member, Statistics } from "./types";

/** useWebSocketConnection(), less its retryNow. */
export interface ConnectionInfo {
  state: ConnectionState;
  /** Socket attempts made since the connection was (last) lost. */
  attempt: number;
  /** Local ms of the next socket attempt while waiting for one; else null. */
  nextRetryAt: number | null;
  /** The socket is down and the page is kept up to date by reading the REST API (and it answers). */
  polling: boolean;
  /** All the supervisor knows (phase, deadlines, delayed since…), for the indicator's details. */
  view: ConnectionView;
}

/** useCallPresence(organizationId). */
export interface CallPresence {
  /** The active-calls panel: calls under way, and those that just ended (for a few seconds), oldest first. */
  activeCalls: CallEntry[];
  /** Who is on the organization's presence channel, by name. */
  members: Member[];
  /** The extensions board: every extension with its live state, the signed-in user's own first. */
  extensions: BoardRow[];
  /** The latest calls, newest shown time first. */
  recent: CallLog[];
  /** Today's figures (GET /call-logs/statistics); null before the first answer. */
  stats: Statistics | null;
  /** Server clock - local clock (ms): durations count by the server's clock. */
  clockOffsetMs: number;
}

export const EMPTY_PRESENCE: CallPresence = Object.freeze({
  activeCalls: [],
  members: [],
  extensions: [],
  recent: [],
  stats: null,
  clockOffsetMs: 0,
}) as CallPresence;

/** `compute(...inputs)`, computed again only when an input changes (by Object.is). */
function memoLast<A extends unknown[], R>(compute: (...inputs: A) => R): (...inputs: A) => R {
  let last: { inputs: A; result: R } | null = null;
  return (...inputs: A) => {
    if (last && last.inputs.length === inputs.length && last.inputs.every((v, i) => Object.is(v, inputs[i]))) {
      return last.result;
    }
    const result = compute(...inputs);
    last = { inputs, result };
    return result;
  };
}

export function connectionInfo(view: ConnectionView): ConnectionInfo {
  return {
    state: view.state,
    attempt: view.attempt,
    nextRetryAt: view.phase === "waiting" ? view.nextAttemptAt : null,
    polling: view.state === "polling",
    view,
  };
}

/** A memoised connectionInfo over the state (one per session). */
export function connectionSelector(): (state: DashboardState) => ConnectionInfo {
  const select = memoLast(connectionInfo);
  return (state) => select(state.connection);
}

/** Presence is the channel's word only while the socket is up and its snapshot applied. */
function presenceIsLive(view: ConnectionView): boolean {
  return view.phase === "live";
}

/** A memoised CallPresence over the state, for the signed-in user `userId` (one per session). */
export function presenceSelector(): (state: DashboardState, userId: number | string | null) => CallPresence {
  // Keyed on the calls record, not the whole CallsState: ignored or duplicate events rebuild the
  // state (counters, seen ids) but keep the same record, and must not recompute the board.
  const calls = memoLast((record: CallsState["calls"]) => visibleCalls({ calls: record }));
  const board = memoLast(
    (extensions: ExtensionStatus[], active: CallEntry[], members: Member[] | null, userId: number | string | null) =>
      boardRows({ extensions, calls: active, members, userId }),
  );
  const presence = memoLast(
    (
      activeCalls: CallEntry[],
      members: Member[],
      extensions: BoardRow[],
      recent: CallLog[],
      stats: Statistics | null,
      clockOffsetMs: number,
    ): CallPresence => ({ activeCalls, members, extensions, recent, stats, clockOffsetMs }),
  );
  return (state, userId) => {
    const activeCalls = calls(state.calls.calls);
    const live = presenceIsLive(state.connection);
    // The same `members` array while live, null while not: the board is recomputed only when that flips.
    const extensions = board(state.extensions, activeCalls, live ? state.members : null, userId);
    return presence(activeCalls, state.members, extensions, state.recent, state.stats, state.clockOffsetMs);
  };
}

/** The history page's cue that new calls may match its filters: every event or snapshot applied. */
export function callChanges(state: DashboardState): number {
  return state.calls.eventsApplied + state.calls.snapshotsApplied;
}
