// window.__opbxDashboard: live counters for browser tests and debugging.

import type { DashboardState } from "./controller";

export interface DashboardDebug {
  eventsApplied: number;
  snapshotsApplied: number;
  connectionState: string;
  /** The latest event seq the page has applied (events or snapshot); null before one is known. */
  appliedSeq: number | null;
  /** The seq of the last `sync` heard; null before the first. */
  syncSeq: number | null;
  syncsHeard: number;
}

declare global {
  interface Window {
    __opbxDashboard: DashboardDebug;
  }
}

export const SIGNED_OUT_DEBUG: Readonly<DashboardDebug> = {
  eventsApplied: 0,
  snapshotsApplied: 0,
  connectionState: "offline",
  appliedSeq: null,
  syncSeq: null,
  syncsHeard: 0,
};

export function debugHandle(): DashboardDebug {
  if (typeof window === "undefined") return { ...SIGNED_OUT_DEBUG };
  if (!window.__opbxDashboard) window.__opbxDashboard = { ...SIGNED_OUT_DEBUG };
  return window.__opbxDashboard;
}

export function publishDebug(values: DashboardDebug): void {
  Object.assign(debugHandle(), values);
}

/** The counters of a signed-in page, from its controller's state. */
export function debugValues(state: DashboardState): DashboardDebug {
  return {
    eventsApplied: state.calls.eventsApplied,
    snapshotsApplied: state.calls.snapshotsApplied,
    connectionState: state.connection.state,
    appliedSeq: state.calls.seq,
    syncSeq: state.delivery.syncSeq,
    syncsHeard: state.delivery.syncsHeard,
  };
}
