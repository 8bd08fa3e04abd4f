// window.__opbxDashboard: live counters for browser tests and debugging.

export interface DashboardDebug {
  eventsApplied: number;
  snapshotsApplied: number;
  connectionState: string;
}

declare global {
  interface Window {
    __opbxDashboard: DashboardDebug;
  }
}

export function debugHandle(): DashboardDebug {
  if (typeof window === "undefined") {
    return { eventsApplied: 0, snapshotsApplied: 0, connectionState: "offline" };
  }
  if (!window.__opbxDashboard) {
    window.__opbxDashboard = { eventsApplied: 0, snapshotsApplied: 0, connectionState: "offline" };
  }
  return window.__opbxDashboard;
}

export function publishDebug(values: DashboardDebug): void {
  const handle = debugHandle();
  handle.eventsApplied = values.eventsApplied;
  handle.snapshotsApplied = values.snapshotsApplied;
  handle.connectionState = values.connectionState;
}
