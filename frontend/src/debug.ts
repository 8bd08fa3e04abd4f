// window.__opbxDashboard: live counters for browser tests and debugging.

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
