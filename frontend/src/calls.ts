// The call store: a pure reducer over realtime events and REST snapshots.
//
// * State is keyed by call_id.
// * Events carry the organization's `seq` (1, 2, 3… in commit order): one whose seq is not
//   newer than the last applied (`seq`) is dropped. A snapshot sets `seq` to the one it
//   reflects, so events it already contains replay harmlessly. Gaps are the controller's job.
// * Events are also deduplicated by event_id (a bounded set of seen ids).
// * A call that ended leaves a tombstone, so a late `initiated`/`answered` (out of
//   order) or a stale snapshot can't resurrect it.
// * An ended call stays visible for ENDED_LINGER_MS (its local `endedAt`), then a
//   `prune` removes it (it then lives on in the recent calls list).
// * A `snapshot` (GET /call-logs/active) is authoritative for active calls: calls in
//   it are upserted (unless tombstoned), locally active calls absent from it are
//   dropped (and tombstoned).

import type { ActiveCallStatus, AnsweredBy, CallEvent, CallLog, CallStatus, EndedCallStatus } from "./types";

export const ENDED_LINGER_MS = 3000;
/** How long tombstones are kept (late duplicates arrive within seconds). */
export const TOMBSTONE_TTL_MS = 30 * 60 * 1000;
/**
 * Event ids are remembered in two generations of this size (so between this many and
 * twice as many of the latest ids are kept); copying stays cheap per event.
 */
export const SEEN_GENERATION_SIZE = 1000;

export const ACTIVE_STATUSES: readonly ActiveCallStatus[] = ["initiated", "ringing", "answered"];
export const ENDED_STATUSES: readonly EndedCallStatus[] = ["completed", "busy", "no_answer", "failed"];

/** Not over yet: initiated, ringing or answered. */
export function isActiveStatus(status: string | null | undefined): status is ActiveCallStatus {
  return (ACTIVE_STATUSES as readonly string[]).includes(status ?? "");
}

/** One of the four final states. */
export function isEndedStatus(status: string | null | undefined): status is EndedCallStatus {
  return (ENDED_STATUSES as readonly string[]).includes(status ?? "");
}

/** Waiting for someone to answer: initiated or ringing. */
export function isWaitingStatus(status: string | null | undefined): status is "initiated" | "ringing" {
  return status === "initiated" || status === "ringing";
}

export interface CallEntry {
  call_id: string;
  id: number | string | null;
  direction: string | null;
  from_number: string | null;
  to_number: string | null;
  did_id: number | string | null;
  extension_id: number | string | null;
  extension_number: string | null;
  answered_by: AnsweredBy | null;
  status: CallStatus;
  initiated_at: string | null;
  /** When the provider reported it ringing; null if it has not (or the server predates it). */
  ringing_at: string | null;
  answered_at: string | null;
  ended_at: string | null;
  duration: number | null;
  /** Local time (ms) the call was seen to end; null while active. */
  endedAt: number | null;
}

export interface CallsState {
  calls: Readonly<Record<string, CallEntry>>;
  /**
   * The latest event sequence number applied (by an event or a snapshot); null until one
   * is known (and with a server that sends none).
   */
  seq: number | null;
  /** Event ids already applied (bounded: see SEEN_GENERATION_SIZE). */
  seen: SeenIds;
  /** call_id -> local time (ms) it ended. */
  tombstones: Readonly<Record<string, number>>;
  eventsApplied: number;
  eventsIgnored: number;
  snapshotsApplied: number;
}

export interface SeenIds {
  current: ReadonlySet<string>;
  previous: ReadonlySet<string>;
}

export function hasSeen(seen: SeenIds, eventId: string): boolean {
  return seen.current.has(eventId) || seen.previous.has(eventId);
}

export type CallsAction =
  | { type: "event"; event: CallEvent; now: number }
  | { type: "snapshot"; calls: readonly CallLog[]; now: number; seq?: number | null }
  | { type: "prune"; now: number }
  | { type: "reset" };

export function initialCallsState(): CallsState {
  return {
    calls: {},
    seq: null,
    seen: { current: new Set<string>(), previous: new Set<string>() },
    tombstones: {},
    eventsApplied: 0,
    eventsIgnored: 0,
    snapshotsApplied: 0,
  };
}

const STATUS_RANK: Record<ActiveCallStatus, number> = { initiated: 0, ringing: 1, answered: 2 };

/** How far along a call is: initiated < ringing < answered < ended. */
function rank(status: CallStatus): number {
  return isActiveStatus(status) ? STATUS_RANK[status] : 3;
}

function emptyEntry(callId: string): CallEntry {
  return {
    call_id: callId,
    id: null,
    direction: null,
    from_number: null,
    to_number: null,
    did_id: null,
    extension_id: null,
    extension_number: null,
    answered_by: null,
    status: "initiated",
    initiated_at: null,
    ringing_at: null,
    answered_at: null,
    ended_at: null,
    duration: null,
    endedAt: null,
  };
}

/** `value` unless it is null/undefined, else `fallback`. */
function pick<T>(value: T | null | undefined, fallback: T): T {
  return value === undefined || value === null ? fallback : value;
}

/** An event's sequence number, or null when it has none (an older server). */
export function eventSeq(event: CallEvent): number | null {
  const seq = event.payload.seq;
  return typeof seq === "number" && Number.isFinite(seq) ? seq : null;
}

/** Whether the event is old news: its seq is not newer than the last one applied. */
export function isStale(state: CallsState, event: CallEvent): boolean {
  const seq = eventSeq(event);
  return seq !== null && state.seq !== null && seq <= state.seq;
}

function remember(seen: SeenIds, eventId: string): SeenIds {
  const current = new Set(seen.current);
  current.add(eventId);
  if (current.size >= SEEN_GENERATION_SIZE) {
    return { current: new Set<string>(), previous: current };
  }
  return { current, previous: seen.previous };
}

function withCall(state: CallsState, entry: CallEntry): Readonly<Record<string, CallEntry>> {
  return { ...state.calls, [entry.call_id]: entry };
}

function applyEvent(state: CallsState, event: CallEvent, now: number): CallsState {
  const eventId = event.payload.event_id;
  if (isStale(state, event) || (eventId && hasSeen(state.seen, eventId))) {
    return { ...state, eventsIgnored: state.eventsIgnored + 1 };
  }
  const callId = event.payload.call_id;
  const seq = eventSeq(event);
  const base: CallsState = {
    ...state,
    seq: seq ?? state.seq,
    seen: eventId ? remember(state.seen, eventId) : state.seen,
    eventsApplied: state.eventsApplied + 1,
  };
  if (!callId) return base;
  const existing = state.calls[callId];
  const tombstoned = callId in state.tombstones;

  switch (event.name) {
    case "call.initiated": {
      if (tombstoned || (existing && existing.endedAt !== null)) return base;
      const p = event.payload;
      const prev = existing ?? emptyEntry(callId);
      const status = existing ? prev.status : "initiated";
      const incoming = isActiveStatus(p.status) ? p.status : "initiated";
      const entry: CallEntry = {
        ...prev,
        from_number: pick(p.from_number, prev.from_number),
        to_number: pick(p.to_number, prev.to_number),
        did_id: pick(p.did_id, prev.did_id),
        initiated_at: pick(p.initiated_at, prev.initiated_at),
        // Never downgrade (an `answered` may have arrived first).
        status: rank(incoming) > rank(status) ? incoming : status,
      };
      return { ...base, calls: withCall(state, entry) };
    }
    case "call.ringing": {
      if (tombstoned || (existing && existing.endedAt !== null)) return base;
      const p = event.payload;
      const prev = existing ?? emptyEntry(callId);
      const entry: CallEntry = {
        ...prev,
        // Ringing unless it is further along already (an `answered` overtook it).
        status: rank(prev.status) > rank("ringing") ? prev.status : "ringing",
        ringing_at: pick(p.ringing_at, prev.ringing_at),
        extension_id: pick(p.extension_id, prev.extension_id),
      };
      return { ...base, calls: withCall(state, entry) };
    }
    case "call.answered": {
      if (tombstoned || (existing && existing.endedAt !== null)) return base;
      const p = event.payload;
      const prev = existing ?? emptyEntry(callId);
      const answeredBy = pick(p.answered_by, prev.answered_by);
      const entry: CallEntry = {
        ...prev,
        status: "answered",
        answered_at: pick(p.answered_at, prev.answered_at),
        extension_id: pick(p.extension_id, prev.extension_id),
        answered_by: answeredBy,
        extension_number: answeredBy?.extension_number ?? prev.extension_number,
      };
      return { ...base, calls: withCall(state, entry) };
    }
    case "call.ended": {
      const p = event.payload;
      const tombstones = tombstoned ? state.tombstones : { ...state.tombstones, [callId]: now };
      if (!existing || existing.endedAt !== null) {
        // Unknown (or already ended) call: remember it ended, nothing to show.
        return { ...base, tombstones };
      }
      // A final state we do not know (or an active one) reads as completed.
      const status: EndedCallStatus = isEndedStatus(p.status) ? p.status : "completed";
      const entry: CallEntry = {
        ...existing,
        status,
        ended_at: pick(p.ended_at, existing.ended_at),
        duration: pick(p.duration, existing.duration),
        endedAt: now,
      };
      return { ...base, tombstones, calls: withCall(state, entry) };
    }
  }
}

function entryFromLog(log: CallLog, prev: CallEntry | undefined): CallEntry {
  const base = prev ?? emptyEntry(log.call_id);
  const status =
    prev && isActiveStatus(prev.status) && rank(prev.status) > rank(log.status)
      ? prev.status
      : log.status;
  const answeredBy = log.answered_by ?? base.answered_by;
  return {
    ...base,
    id: log.id,
    direction: log.direction ?? base.direction,
    from_number: log.from_number ?? base.from_number,
    to_number: log.to_number ?? base.to_number,
    did_id: log.did_id ?? base.did_id,
    extension_id: log.extension_id ?? base.extension_id,
    extension_number:
      answeredBy?.extension_number ?? log.extension?.number ?? base.extension_number,
    answered_by: answeredBy,
    status,
    initiated_at: log.initiated_at ?? base.initiated_at,
    ringing_at: log.ringing_at ?? base.ringing_at,
    answered_at: log.answered_at ?? base.answered_at,
    ended_at: log.ended_at ?? base.ended_at,
    duration: log.duration ?? base.duration,
  };
}

function applySnapshot(
  state: CallsState,
  logs: readonly CallLog[],
  now: number,
  seq: number | null | undefined,
): CallsState {
  const calls: Record<string, CallEntry> = {};
  const tombstones: Record<string, number> = { ...state.tombstones };
  const inSnapshot = new Set<string>();

  for (const log of logs) {
    if (!log.call_id || !isActiveStatus(log.status)) continue;
    inSnapshot.add(log.call_id);
    if (log.call_id in tombstones) continue;
    const prev = state.calls[log.call_id];
    if (prev && prev.endedAt !== null) continue;
    calls[log.call_id] = entryFromLog(log, prev);
  }
  for (const [callId, entry] of Object.entries(state.calls)) {
    if (entry.endedAt !== null) {
      calls[callId] = entry; // still lingering after ending
    } else if (!inSnapshot.has(callId)) {
      tombstones[callId] = now; // ended while we weren't listening
    }
  }
  return {
    ...state,
    calls,
    tombstones,
    // The server's word: what the snapshot reflects (events up to it replay harmlessly).
    seq: typeof seq === "number" && Number.isFinite(seq) ? seq : state.seq,
    snapshotsApplied: state.snapshotsApplied + 1,
  };
}

function prune(state: CallsState, now: number): CallsState {
  let changed = false;
  const calls: Record<string, CallEntry> = {};
  for (const [callId, entry] of Object.entries(state.calls)) {
    if (entry.endedAt !== null && now - entry.endedAt >= ENDED_LINGER_MS) {
      changed = true;
    } else {
      calls[callId] = entry;
    }
  }
  const tombstones: Record<string, number> = {};
  for (const [callId, at] of Object.entries(state.tombstones)) {
    if (now - at < TOMBSTONE_TTL_MS) tombstones[callId] = at;
    else changed = true;
  }
  return changed ? { ...state, calls, tombstones } : state;
}

export function callsReducer(state: CallsState, action: CallsAction): CallsState {
  switch (action.type) {
    case "event":
      return applyEvent(state, action.event, action.now);
    case "snapshot":
      return applySnapshot(state, action.calls, action.now, action.seq);
    case "prune":
      return prune(state, action.now);
    case "reset":
      return initialCallsState();
  }
}

// ---------------------------------------------------------------- selectors

function parseTime(iso: string | null): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/** Calls to show in the active panel (including ones lingering after ending), oldest first. */
export function visibleCalls(state: Pick<CallsState, "calls">): CallEntry[] {
  return Object.values(state.calls).sort((a, b) => {
    const ta = parseTime(a.initiated_at) ?? parseTime(a.answered_at) ?? Number.MAX_SAFE_INTEGER;
    const tb = parseTime(b.initiated_at) ?? parseTime(b.answered_at) ?? Number.MAX_SAFE_INTEGER;
    return ta - tb || a.call_id.localeCompare(b.call_id);
  });
}

/**
 * Seconds shown in the duration column, given the server's "now" (ms).
 * Waiting calls count from initiated_at (wait time), answered ones from answered_at,
 * ended ones show their final duration.
 */
export function callDurationSeconds(call: CallEntry, serverNow: number): number {
  if (call.endedAt !== null || !isActiveStatus(call.status)) {
    if (call.duration !== null) return Math.max(0, Math.floor(call.duration));
    const end = parseTime(call.ended_at);
    const start = parseTime(call.answered_at) ?? parseTime(call.initiated_at);
    return end !== null && start !== null ? Math.max(0, Math.floor((end - start) / 1000)) : 0;
  }
  const start =
    call.status === "answered"
      ? (parseTime(call.answered_at) ?? parseTime(call.initiated_at))
      : parseTime(call.initiated_at);
  if (start === null) return 0;
  return Math.max(0, Math.floor((serverNow - start) / 1000));
}

export interface LiveStats {
  active: number;
  ringing: number;
  longestWait: number;
}

/** The wallboard's live figures over `calls` (those ended are left out). */
export function liveStats(calls: readonly CallEntry[], serverNow: number): LiveStats {
  let active = 0;
  let ringing = 0;
  let longestWait = 0;
  for (const call of calls) {
    if (call.endedAt !== null || !isActiveStatus(call.status)) continue;
    active += 1;
    if (isWaitingStatus(call.status)) {
      ringing += 1;
      longestWait = Math.max(longestWait, callDurationSeconds(call, serverNow));
    }
  }
  return { active, ringing, longestWait };
}
