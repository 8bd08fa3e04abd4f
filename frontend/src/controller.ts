// Orchestrates one signed-in dashboard session: REST + realtime + recovery, into a
// single store the React tree renders.

import { isUnauthorized, type LiveApi } from "./api";
import { callsReducer, initialCallsState, type CallsAction, type CallsState } from "./calls";
import {
  ConnectionSupervisor,
  systemClock,
  type Clock,
  type ConnectionView,
} from "./connection";
import { clockOffsetMs } from "./format";
import { membersReducer, type MembersAction } from "./members";
import type { RealtimeFactory, RealtimeHandle } from "./realtime";
import { createStore, type Store } from "./store";
import type { CallEvent, CallLog, Member, Statistics } from "./types";

export const STATS_REFRESH_MS = 10_000;
export const PRUNE_INTERVAL_MS = 250;
/** How long a resync waits for the organization channel's subscription before retrying. */
export const SUBSCRIBE_TIMEOUT_MS = 10_000;
/** Coalesces the recent/stats refresh after bursts of call.ended. */
export const ENDED_REFRESH_DEBOUNCE_MS = 250;
export const RECENT_LIMIT = 10;

export interface DashboardState {
  calls: CallsState;
  members: Member[];
  recent: CallLog[];
  stats: Statistics | null;
  /** server clock - local clock (ms), from the last snapshot. */
  clockOffsetMs: number;
  connection: ConnectionView;
  /** A fatal start-up error (e.g. the realtime config could not be loaded). */
  error: string | null;
}

export interface ControllerOptions {
  api: LiveApi;
  realtime: RealtimeFactory;
  token: string;
  organizationId: string | number;
  onUnauthorized: () => void;
  clock?: Clock;
  random?: () => number;
}

function initialConnection(): ConnectionView {
  return {
    state: "reconnecting",
    phase: "connecting",
    attempt: 0,
    nextAttemptAt: null,
    attemptDeadline: null,
    lastPollOk: null,
    socketState: "initialized",
  };
}

export function initialDashboardState(): DashboardState {
  return {
    calls: initialCallsState(),
    members: [],
    recent: [],
    stats: null,
    clockOffsetMs: 0,
    connection: initialConnection(),
    error: null,
  };
}

export class DashboardController {
  readonly store: Store<DashboardState> = createStore(initialDashboardState());
  private readonly opts: ControllerOptions;
  private readonly clock: Clock;
  private supervisor: ConnectionSupervisor | null = null;
  private realtime: RealtimeHandle | null = null;
  private buffering = true;
  private buffer: CallEvent[] = [];
  private timers: unknown[] = [];
  private endedRefreshTimer: unknown = null;
  private stopped = false;

  constructor(options: ControllerOptions) {
    this.opts = options;
    this.clock = options.clock ?? systemClock;
  }

  async start(): Promise<void> {
    let config;
    try {
      config = await this.opts.api.realtimeConfig();
    } catch (err) {
      if (this.stopped) return;
      this.store.set((s) => ({ ...s, error: "Could not load the realtime configuration." }));
      this.fail(err);
      // Without realtime config we can still show data by polling.
      this.startTimers();
      void this.refreshStats();
      throw err;
    }
    if (this.stopped) return;

    const supervisor = new ConnectionSupervisor({
      socket: {
        connect: () => this.realtime?.socket.connect(),
        disconnect: () => this.realtime?.socket.disconnect(),
      },
      resync: () => this.resync(),
      poll: (stillWanted) => this.poll(stillWanted),
      onChange: (view) => {
        if (view.phase !== "live" && view.phase !== "resyncing") this.buffering = true;
        this.store.set((s) => ({ ...s, connection: view }));
      },
      clock: this.clock,
      ...(this.opts.random ? { random: this.opts.random } : {}),
    });
    this.supervisor = supervisor;

    this.realtime = this.opts.realtime(config, this.opts.token, this.opts.organizationId, {
      onEvent: (event) => this.onEvent(event),
      onHere: (members) => this.members({ type: "here", members }),
      onJoining: (member) => this.members({ type: "joining", member }),
      onLeaving: (member) => this.members({ type: "leaving", member }),
      onStateChange: (change) => supervisor.handleStateChange(change),
    });
    supervisor.start(this.realtime.initialState);
    this.startTimers();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.supervisor?.stop();
    for (const t of this.timers) this.clock.clearInterval(t);
    this.timers = [];
    if (this.endedRefreshTimer !== null) this.clock.clearTimeout(this.endedRefreshTimer);
    try {
      this.realtime?.close();
    } catch {
      /* already closed */
    }
    this.realtime = null;
  }

  retryNow(): void {
    this.supervisor?.retryNow();
  }

  /** Realtime event entry point: buffered until the post-connect resync is applied. */
  onEvent(event: CallEvent): void {
    if (this.stopped) return;
    if (this.buffering) {
      this.buffer.push(event);
      return;
    }
    this.apply(event);
  }

  // ------------------------------------------------------------------ internals

  private dispatch(action: CallsAction): void {
    this.store.set((s) => {
      const calls = callsReducer(s.calls, action);
      return calls === s.calls ? s : { ...s, calls };
    });
  }

  private members(action: MembersAction): void {
    this.store.set((s) => ({ ...s, members: membersReducer(s.members, action) }));
  }

  private apply(event: CallEvent): void {
    const before = this.store.get().calls.eventsApplied;
    this.dispatch({ type: "event", event, now: this.clock.now() });
    const applied = this.store.get().calls.eventsApplied !== before;
    if (applied && event.name === "call.ended") this.scheduleEndedRefresh();
  }

  private applySnapshot(calls: CallLog[], serverTime: string): void {
    const now = this.clock.now();
    this.dispatch({ type: "snapshot", calls, now });
    this.store.set((s) => ({ ...s, clockOffsetMs: clockOffsetMs(serverTime, now) }));
  }

  private fail(err: unknown): void {
    if (isUnauthorized(err) && !this.stopped) this.opts.onUnauthorized();
  }

  private startTimers(): void {
    this.timers.push(
      this.clock.setInterval(() => this.dispatch({ type: "prune", now: this.clock.now() }), PRUNE_INTERVAL_MS),
      this.clock.setInterval(() => void this.refreshStats(), STATS_REFRESH_MS),
    );
  }

  private scheduleEndedRefresh(): void {
    if (this.endedRefreshTimer !== null) return;
    this.endedRefreshTimer = this.clock.setTimeout(() => {
      this.endedRefreshTimer = null;
      void this.refreshRecent();
      void this.refreshStats();
    }, ENDED_REFRESH_DEBOUNCE_MS);
  }

  private async refreshRecent(): Promise<void> {
    try {
      const res = await this.opts.api.recentCalls(RECENT_LIMIT);
      if (this.stopped) return;
      this.store.set((s) => ({ ...s, recent: (res.data ?? []).slice(0, RECENT_LIMIT) }));
    } catch (err) {
      this.fail(err);
    }
  }

  private async refreshStats(): Promise<void> {
    try {
      const res = await this.opts.api.statistics();
      if (this.stopped) return;
      this.store.set((s) => ({ ...s, stats: res.data ?? null }));
    } catch (err) {
      this.fail(err);
    }
  }

  /** After (re)connecting: snapshot, then buffered events, then live. */
  private async resync(): Promise<void> {
    this.buffering = true;
    const recent = this.refreshRecent();
    const stats = this.refreshStats();
    try {
      // Subscribed first, then the snapshot: every event after the snapshot is then buffered.
      await this.realtime?.subscribed(SUBSCRIBE_TIMEOUT_MS);
      const active = await this.opts.api.activeCalls();
      if (this.stopped) return;
      this.applySnapshot(active.data ?? [], active.server_time);
    } catch (err) {
      this.fail(err);
      throw err;
    }
    const pending = this.buffer;
    this.buffer = [];
    for (const event of pending) this.apply(event);
    this.buffering = false;
    await Promise.all([recent, stats]);
  }

  /** While the socket is down. */
  private async poll(stillWanted: () => boolean): Promise<void> {
    const recent = this.refreshRecent();
    try {
      const active = await this.opts.api.activeCalls();
      if (!this.stopped && stillWanted()) this.applySnapshot(active.data ?? [], active.server_time);
    } catch (err) {
      this.fail(err);
      throw err;
    }
    await recent;
  }
}
