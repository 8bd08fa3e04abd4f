// The extensions board: each extension's live state, derived from the REST snapshot's rows
// (id, number, user), the active calls the page holds and who is on the presence channel.
//
// The rules are the API's (GET /extensions/status): on a call when an active call at the
// extension is answered; else ringing when one is initiated or ringing; else available when
// its user is signed in anywhere; else offline. While the socket is live, "signed in" is the
// presence channel's word; otherwise the snapshot's `online` (null, unknown, reads as offline).

import { isActiveStatus, type CallEntry } from "./calls";
import type { ActiveCallStatus, ExtensionState, ExtensionStatus, Member } from "./types";

/** The call behind a ringing or busy extension. */
export interface BoardCall {
  call_id: string;
  status: ActiveCallStatus;
  direction: string | null;
  /** The other end: the caller of an inbound call, the dialled number of an outbound one. */
  other_number: string | null;
  /** When the extension entered its state (ISO): answered_at on a call; ringing_at (else initiated_at) while ringing. */
  since: string | null;
}

export interface BoardRow {
  id: number;
  number: string;
  user: { id: number; name: string } | null;
  state: ExtensionState;
  /** The signed-in user's own extension. */
  mine: boolean;
  call: BoardCall | null;
}

export interface BoardInput {
  extensions: readonly ExtensionStatus[];
  /** The page's calls (lingering ended ones are left out here). */
  calls: readonly CallEntry[];
  /** The presence channel's members while the socket is live; null when it is not (the snapshot then says who is online). */
  members: readonly Member[] | null;
  /** The signed-in user: their extensions come first. */
  userId: number | string | null;
}

const STATE_LABELS: Record<ExtensionState, string> = {
  offline: "Offline",
  available: "Available",
  ringing: "Ringing",
  "on-call": "On a call",
};

export function extensionStateLabel(state: ExtensionState): string {
  return STATE_LABELS[state];
}

function timeMs(iso: string | null): number {
  const ms = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

type ActiveEntry = CallEntry & { status: ActiveCallStatus };

function isActiveEntry(call: CallEntry): call is ActiveEntry {
  return call.endedAt === null && isActiveStatus(call.status);
}

function boardCall(call: ActiveEntry): BoardCall {
  const answered = call.status === "answered";
  return {
    call_id: call.call_id,
    status: call.status,
    direction: call.direction,
    other_number: call.direction === "outbound" ? call.to_number : call.from_number,
    since: answered ? (call.answered_at ?? call.initiated_at) : (call.ringing_at ?? call.initiated_at),
  };
}

/** The earliest of `calls` by when it entered its state. */
function earliest(calls: readonly ActiveEntry[]): BoardCall | null {
  let best: BoardCall | null = null;
  for (const call of calls) {
    const candidate = boardCall(call);
    if (best === null || timeMs(candidate.since) < timeMs(best.since)) best = candidate;
  }
  return best;
}

/**
 * The extension each active call is at: its own `extension_id`, else (a call the page learnt
 * of before it was routed) the extension the snapshot put it at.
 */
function callsByExtension(input: BoardInput): Map<string, ActiveEntry[]> {
  const fromSnapshot = new Map<string, string>();
  for (const extension of input.extensions) {
    if (extension.call) fromSnapshot.set(extension.call.call_id, String(extension.id));
  }
  const byExtension = new Map<string, ActiveEntry[]>();
  for (const call of input.calls) {
    if (!isActiveEntry(call)) continue;
    const at = call.extension_id !== null ? String(call.extension_id) : fromSnapshot.get(call.call_id);
    if (at === undefined) continue;
    const list = byExtension.get(at) ?? [];
    list.push(call);
    byExtension.set(at, list);
  }
  return byExtension;
}

function isOnline(extension: ExtensionStatus, present: ReadonlySet<string> | null): boolean {
  if (!extension.user) return false;
  if (present === null) return extension.online === true;
  return present.has(String(extension.user.id));
}

/** Every extension with its live state: the signed-in user's own first, then in the snapshot's order (by number). */
export function boardRows(input: BoardInput): BoardRow[] {
  const byExtension = callsByExtension(input);
  const present = input.members === null ? null : new Set(input.members.map((member) => String(member.id)));
  const me = input.userId === null ? null : String(input.userId);
  const rows = input.extensions.map((extension): BoardRow => {
    const calls = byExtension.get(String(extension.id)) ?? [];
    const talking = earliest(calls.filter((call) => call.status === "answered"));
    const ringing = talking ? null : earliest(calls.filter((call) => call.status !== "answered"));
    const state: ExtensionState = talking
      ? "on-call"
      : ringing
        ? "ringing"
        : isOnline(extension, present)
          ? "available"
          : "offline";
    return {
      id: extension.id,
      number: extension.number,
      user: extension.user,
      state,
      mine: me !== null && extension.user !== null && String(extension.user.id) === me,
      call: talking ?? ringing,
    };
  });
  return [...rows.filter((row) => row.mine), ...rows.filter((row) => !row.mine)];
}

/** Whole seconds the extension has been ringing or on its call, by the server's clock (0 when unknown). */
export function boardSeconds(row: BoardRow, serverNow: number): number {
  const since = timeMs(row.call?.since ?? null);
  if (!Number.isFinite(since)) return 0;
  return Math.max(0, Math.floor((serverNow - since) / 1000));
}
