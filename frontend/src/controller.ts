// Orchestrates one signed-in dashboard session: REST + realtime + recovery, into a
// single store the React tree renders.

import { isUnauthorized, type LiveApi } from "./api";
import { backoffDelayMs } from "./backoff";
import { callsReducer, eventSeq, initialCallsState, type CallsAction, type CallsState } from "./calls";
import {
  ConnectionSupervisor,
  systemClock,
  withDelay,
  type Clock,
  type ConnectionView,
} from "./connection";
import { clockOffsetMs } from "./format";
import { Freshness } from "./freshness";
import { membersReducer, type MembersAction } from "./members";
import type { RealtimeFactory, RealtimeHandle } from "./realtime";
import { newestShownFirst } from "./recent";
import { createStore, type Store } from "./store";
import type {
  ActiveCallsResponse,
  CallEvent,
  CallLog,
  ExtensionStatus,
  Member,
  Statistics,
  SyncPayload,
} from "./types";

export const STATS_REFRESH_MS = 10_000;
export const PRUNE_INTERVAL_MS = 250;
/** How long a resync waits for the organization channel's subscription before retrying. */
export const SUBSCRIBE_TIMEOUT_MS = 10_000;
/** Coalesces the recent/stats refresh after bursts of call.ended. */
export const ENDED_REFRESH_DEBOUNCE_MS = 250;
export const RECENT_LIMIT = 10;
/** Snapshots one resync may read while the events it buffered still leave a gap after them. */
export const RESYNC_ROUNDS = 3;
/** A failed catch-up (a re-read while live) is retried after random(0, min(this, 1 s·2^n)), at least CATCH_UP_MIN_MS. */
export const CATCH_UP_CAP_MS = 5_000;
export const CATCH_UP_MIN_MS = 250;

/** What the page has heard of the relay's `sync` events. */
export interface DeliveryState {
  /** The seq of the last sync heard; null before the first. */
  syncSeq: number | null;
  syncsHeard: number;
}

export interface DashboardState {
  calls: CallsState;
  members: Member[];
  /**
   * GET /extensions/status: every extension of the organization, read on start, on each
   * resync and each poll. Its live state is derived from the calls and the members (board.ts).
   */
  extensions: ExtensionStatus[];
  /** The latest calls, newest shown time first (recent.ts). */
  recent: CallLog[];
  stats: Statistics | null;
  /** server clock - local clock (ms), from the last snapshot. */
  clockOffsetMs: number;
  connection: ConnectionView;
  delivery: DeliveryState;
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
    extensions: [],
    recent: [],
    stats: null,
    clockOffsetMs: 0,
    connection: initialConnection(),
    delivery: { syncSeq: null, syncsHeard: 0 },
    error: null,
  };
}

export class DashboardController {
  readonly store: Store<DashboardState> = createStore(initialDashboardState());
  private readonly opts: ControllerOptions;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly freshness: Freshness;
  private supervisor: ConnectionSupervisor | null = null;
  /** The supervisor's last view (the store's `connection` is it, maybe shown as delayed). */
  private supervisorView: ConnectionView = initialConnection();
  private realtime: RealtimeHandle | null = null;
  private buffering = true;
  private buffer: CallEvent[] = [];
  /** Bumped by every resync and by losing the connection: an older resync's snapshot is void. */
  private resyncRun = 0;
  private resyncInFlight: number | null = null;
  private catchUpTimer: unknown = null;
  private catchUpFailures = 0;
  private timers: unknown[] = [];
  private endedRefreshTimer: unknown = null;
  /** Extension snapshots asked for, and the newest one applied (an older answer arriving late is dropped). */
  private extensionsAsked = 0;
  private extensionsApplied = 0;
  private stopped = false;

  constructor(options: ControllerOptions) {
    this.opts = options;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.freshness = new Freshness({
      clock: this.clock,
      onChange: () => this.publishConnection(),
      onLagging: () => this.catchUp(),
    });
  }

  async start(): Promise<void> {
    // The board's rows as soon as possible, before the socket is up.
    void this.refreshExtensions();
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
        if (view.phase !== "live" && view.phase !== "resyncing") {
          this.buffering = true;
          this.resyncRun++;
        }
        this.supervisorView = view;
        if (view.phase === "live") {
          this.freshness.watch();
        } else {
          this.freshness.pause();
          this.cancelCatchUp();
        }
        this.publishConnection();
      },
      clock: this.clock,
      ...(this.opts.random ? { random: this.opts.random } : {}),
    });
    this.supervisor = supervisor;

    this.realtime = this.opts.realtime(config, this.opts.token, this.opts.organizationId, {
      onEvent: (event) => this.onEvent(event),
      onSync: (payload) => this.onSync(payload),
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
    this.freshness.stop();
    this.cancelCatchUp();
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

  /**
   * Realtime event entry point: buffered while a resync is under way. An event whose seq
   * skips one (a gap: events were lost on the way) is held, with those after it, while the
   * snapshot is re-read.
   */
  onEvent(event: CallEvent): void {
    if (this.stopped) return;
    if (this.buffering) {
      this.buffer.push(event);
      return;
    }
    if (this.ingest(event)) return;
    this.buffering = true;
    this.buffer.push(event);
    this.catchUp();
  }

  /** The relay's `sync`: how far the server is, and that its updates still reach the page. */
  onSync(payload: SyncPayload): void {
    if (this.stopped) return;
    const seq = typeof payload?.seq === "number" && Number.isFinite(payload.seq) ? payload.seq : null;
    this.store.set((s) => ({
      ...s,
      delivery: { syncSeq: seq ?? s.delivery.syncSeq, syncsHeard: s.delivery.syncsHeard + 1 },
    }));
    this.freshness.heard(seq, payload?.interval);
  }

  // ------------------------------------------------------------------ internals

  private dispatch(action: CallsAction): void {
    this.store.set((s) => {
      const calls = callsReducer(s.calls, action);
      return calls === s.calls ? s : { ...s, calls };
    });
    this.freshness.setApplied(this.store.get().calls.seq);
  }

  private publishConnection(): void {
    const view = withDelay(this.supervisorView, this.freshness.delay?.since ?? null);
    this.store.set((s) => ({ ...s, connection: view }));
  }

  /** Apply the event unless it comes after a gap (then: false, nothing applied). Stale ones are dropped. */
  private ingest(event: CallEvent): boolean {
    const seq = eventSeq(event);
    const applied = this.store.get().calls.seq;
    if (seq !== null && applied !== null && seq > applied + 1) {
      this.freshness.exists(seq);
      return false;
    }
    this.apply(event);
    return true;
  }

  /**
   * Apply the buffered events after a snapshot, in seq order (those it already reflects are
   * dropped). On a gap, the rest stays buffered and false is returned.
   */
  private replay(): boolean {
    const pending = inSeqOrder(this.buffer);
    this.buffer = [];
    for (let i = 0; i < pending.length; i++) {
      if (!this.ingest(pending[i]!)) {
        this.buffer = pending.slice(i);
        return false;
      }
    }
    this.buffering = false;
    return true;
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

  private applySnapshot(active: ActiveCallsResponse): void {
    const now = this.clock.now();
    this.dispatch({ type: "snapshot", calls: active.data ?? [], now, seq: active.seq ?? null });
    this.store.set((s) => ({ ...s, clockOffsetMs: clockOffsetMs(active.server_time, now) }));
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
      this.store.set((s) => ({ ...s, recent: newestShownFirst(res.data ?? []).slice(0, RECENT_LIMIT) }));
    } catch (err) {
      this.fail(err);
    }
  }

  private async refreshExtensions(): Promise<void> {
    const asked = ++this.extensionsAsked;
    try {
      const res = await this.opts.api.extensionStatus();
      if (this.stopped || asked < this.extensionsApplied) return;
      this.extensionsApplied = asked;
      this.store.set((s) => ({ ...s, extensions: res.data ?? [] }));
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

  /**
   * After (re)connecting, and to catch up while live: snapshot, then the buffered events
   * newer than it, then live. A resync overtaken by another one (or by losing the
   * connection) applies nothing.
   */
  private async resync(): Promise<void> {
    const run = ++this.resyncRun;
    this.resyncInFlight = run;
    this.buffering = true;
    const recent = this.refreshRecent();
    const stats = this.refreshStats();
    const extensions = this.refreshExtensions();
    try {
      // Subscribed first, then the snapshot: every event after the snapshot is then buffered.
      await this.realtime?.subscribed(SUBSCRIBE_TIMEOUT_MS);
      for (let round = 1; ; round++) {
        const active = await this.opts.api.activeCalls();
        if (this.stopped || run !== this.resyncRun) return;
        this.applySnapshot(active);
        if (this.replay()) break;
        // An event still skips one after this snapshot: read a newer one (it has that event).
        if (round >= RESYNC_ROUNDS) throw new Error("events still missing after the snapshot");
      }
    } catch (err) {
      this.fail(err);
      throw err;
    } finally {
      if (this.resyncInFlight === run) this.resyncInFlight = null;
    }
    await Promise.all([recent, stats, extensions]);
  }

  /** Re-read the snapshot while live: after a gap, or when events lag behind a sync. */
  private catchUp(): void {
    if (this.stopped || this.resyncInFlight !== null || this.catchUpTimer !== null) return;
    // Not live: the supervisor's resync after reconnecting does it.
    if (this.supervisorView.phase !== "live") return;
    const run = this.resyncRun + 1;
    this.resync().then(
      () => {
        if (run === this.resyncRun) this.catchUpFailures = 0;
      },
      () => {
        if (this.stopped || run !== this.resyncRun || this.supervisorView.phase !== "live") return;
        const delay = Math.max(
          CATCH_UP_MIN_MS,
          backoffDelayMs(this.catchUpFailures++, this.random, undefined, CATCH_UP_CAP_MS),
        );
        this.catchUpTimer = this.clock.setTimeout(() => {
          this.catchUpTimer = null;
          this.catchUp();
        }, delay);
      },
    );
  }

  private cancelCatchUp(): void {
    if (this.catchUpTimer !== null) this.clock.clearTimeout(this.catchUpTimer);
    this.catchUpTimer = null;
  }

  /** While the socket is down. */
  private async poll(stillWanted: () => boolean): Promise<void> {
    const recent = this.refreshRecent();
    const extensions = this.refreshExtensions();
    try {
      const active = await this.opts.api.activeCalls();
      if (!this.stopped && stillWanted()) this.applySnapshot(active);
    } catch (err) {
      this.fail(err);
      throw err;
    }
    await Promise.all([recent, extensions]);
  }
}

/** Events by seq when they all have one (a stable sort); else as they came. */
function inSeqOrder(events: CallEvent[]): CallEvent[] {
  const seqs = events.map(eventSeq);
  if (seqs.some((seq) => seq === null)) return events;
  return events
    .map((event, index) => ({ event, seq: seqs[index]!, index }))
    .sort((a, b) => a.seq - b.seq || a.index - b.index)
    .map(({ event }) => event);
}
