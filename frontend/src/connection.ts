// Owns the realtime connection's recovery: detects a lost socket from pusher-js
// `state_change`s, polls REST while it is down, and retries the socket itself with
// exponential backoff + full jitter (forever). After reconnecting it runs a resync
// (snapshot + buffered events) before declaring the connection live.
//
// Everything external (the socket, timers, randomness, REST) is injected so the state
// machine is tested with fake timers.

import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, backoffDelayMs, secondsUntil } from "./backoff";

/**
 * `delayed`: the socket is up and the snapshot applied, but the server's updates are not
 * reaching the page (no `sync` heard for two intervals, or events lagging behind one). The
 * supervisor never reports it: the controller lays it over `live` (see freshness.ts).
 */
export type ConnectionState = "live" | "delayed" | "reconnecting" | "polling" | "offline";

export type Phase =
  | "connecting" // a socket attempt is in flight (also the very first connection)
  | "waiting" // waiting for the backoff timer before the next attempt
  | "resyncing" // socket connected, fetching the snapshot before going live
  | "live"
  | "stopped";

export interface ConnectionView {
  state: ConnectionState;
  phase: Phase;
  /** Socket attempts made since the connection was (last) lost. */
  attempt: number;
  /** Local ms at which the next attempt starts (phase "waiting"). */
  nextAttemptAt: number | null;
  /** Local ms at which the in-flight attempt is given up (phase "connecting"). */
  attemptDeadline: number | null;
  /** Result of the last REST poll while down: null before the first one. */
  lastPollOk: boolean | null;
  /** The raw pusher-js connection state. */
  socketState: string;
  /** While `delayed`: local ms since which the page is behind (last sync heard, or lag began). */
  delayedSince?: number | null;
}

export interface SocketControl {
  connect(): void;
  disconnect(): void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
  setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
  clearInterval: (h) => globalThis.clearInterval(h as ReturnType<typeof setInterval>),
};

export interface SupervisorOptions {
  socket: SocketControl;
  /** Fetch the snapshot, apply it, then apply buffered events. Rejects on failure. */
  resync: () => Promise<void>;
  /**
   * Poll the active calls while the socket is down. Must only apply its result while
   * `stillWanted()` is true (a late answer must not overwrite live data). Rejects on failure.
   */
  poll: (stillWanted: () => boolean) => Promise<void>;
  onChange?: (view: ConnectionView) => void;
  random?: () => number;
  clock?: Clock;
  pollIntervalMs?: number;
  /** How long one socket attempt may take before it is abandoned. */
  attemptTimeoutMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
}

export const POLL_INTERVAL_MS = 5000;
export const ATTEMPT_TIMEOUT_MS = 5000;

const LOST_STATES = new Set(["unavailable", "failed", "disconnected"]);

export function displayState(phase: Phase, lastPollOk: boolean | null): ConnectionState {
  if (phase === "live") return "live";
  if (lastPollOk === true) return "polling";
  if (lastPollOk === false) return "offline";
  return "reconnecting";
}

/** Whole seconds the page has been delayed (0 unless `delayed`). */
export function delayedSeconds(view: ConnectionView, now: number): number {
  if (view.state !== "delayed" || view.delayedSince === null || view.delayedSince === undefined) return 0;
  return Math.max(0, Math.floor((now - view.delayedSince) / 1000));
}

/** `view` shown as delayed since `since` (local ms): only a live connection can be delayed. */
export function withDelay(view: ConnectionView, since: number | null): ConnectionView {
  if (view.phase !== "live" || since === null) return view;
  return { ...view, state: "delayed", delayedSince: since };
}

/** The reconnect countdown shown while not live (always mentions seconds). */
export function countdownText(view: ConnectionView, now: number): string {
  if (view.phase === "waiting" && view.nextAttemptAt !== null) {
    return `Reconnecting in ${secondsUntil(view.nextAttemptAt, now)}s (attempt ${view.attempt + 1})`;
  }
  if (view.phase === "connecting") {
    const left = view.attemptDeadline !== null ? secondsUntil(view.attemptDeadline, now) : 0;
    return view.attempt > 0 ? `Connecting, attempt ${view.attempt}… ${left}s` : `Connecting… ${left}s`;
  }
  if (view.phase === "resyncing") return "Connected, syncing… 0s";
  return "";
}

export class ConnectionSupervisor {
  private readonly opts: Required<Omit<SupervisorOptions, "onChange">> & {
    onChange: (view: ConnectionView) => void;
  };
  private phase: Phase = "connecting";
  private attempt = 0;
  private nextAttemptAt: number | null = null;
  private attemptDeadline: number | null = null;
  private lastPollOk: boolean | null = null;
  private socketState = "initialized";
  private expectingDisconnect = false;
  private started = false;

  private retryTimer: unknown = null;
  private attemptTimer: unknown = null;
  private resyncTimer: unknown = null;
  private pollTimer: unknown = null;
  private pollInFlight = false;
  private resyncGeneration = 0;
  private resyncFailures = 0;
  private outageGeneration = 0;

  constructor(options: SupervisorOptions) {
    this.opts = {
      random: Math.random,
      clock: systemClock,
      pollIntervalMs: POLL_INTERVAL_MS,
      attemptTimeoutMs: ATTEMPT_TIMEOUT_MS,
      backoffBaseMs: BACKOFF_BASE_MS,
      backoffCapMs: BACKOFF_CAP_MS,
      onChange: () => undefined,
      ...options,
    };
  }

  get view(): ConnectionView {
    return {
      state: displayState(this.phase, this.lastPollOk),
      phase: this.phase,
      attempt: this.attempt,
      nextAttemptAt: this.nextAttemptAt,
      attemptDeadline: this.attemptDeadline,
      lastPollOk: this.lastPollOk,
      socketState: this.socketState,
    };
  }

  /**
   * Begin watching the first connection attempt (pusher-js connects on creation);
   * `socketState` is pusher's state at the time.
   */
  start(socketState?: string): void {
    if (this.started) return;
    this.started = true;
    if (socketState) this.socketState = socketState;
    this.beginAttempt(false);
    if (socketState && socketState !== "connecting" && socketState !== "initialized") {
      this.handleStateChange({ current: socketState });
    }
  }

  /** Feed pusher-js `state_change` events here. */
  handleStateChange(change: { previous?: string; current: string }): void {
    const current = change.current;
    this.socketState = current;
    if (this.phase === "stopped") return;

    if (current === "disconnected" && this.expectingDisconnect) {
      this.expectingDisconnect = false;
      this.emit();
      return;
    }
    if (current === "connected") {
      if (this.phase === "connecting" || this.phase === "waiting") {
        this.clearRetryTimers();
        this.phase = "resyncing";
        this.resyncFailures = 0;
        this.runResync();
      }
      this.emit();
      return;
    }
    if (current === "connecting") {
      // pusher-js retrying by itself after a drop (connected -> connecting).
      if (this.phase === "live" || this.phase === "resyncing") this.lost();
      else this.emit();
      return;
    }
    if (LOST_STATES.has(current)) {
      if (this.phase === "live" || this.phase === "resyncing") this.lost();
      else if (this.phase === "connecting") this.attemptFailed();
      else this.emit();
      return;
    }
    this.emit();
  }

  /** Skip the countdown and try the socket now (e.g. the browser came back online). */
  retryNow(): void {
    if (this.phase !== "waiting") return;
    this.clearTimer("retryTimer");
    this.beginAttempt(true);
  }

  stop(): void {
    this.phase = "stopped";
    this.clearRetryTimers();
    this.clearTimer("resyncTimer");
    this.stopPolling();
    this.resyncGeneration++;
    this.emit();
  }

  // ------------------------------------------------------------------ internals

  private emit(): void {
    this.opts.onChange(this.view);
  }

  private clearTimer(name: "retryTimer" | "attemptTimer" | "resyncTimer"): void {
    const handle = this[name];
    if (handle !== null) this.opts.clock.clearTimeout(handle);
    this[name] = null;
  }

  private clearRetryTimers(): void {
    this.clearTimer("retryTimer");
    this.clearTimer("attemptTimer");
    this.nextAttemptAt = null;
    this.attemptDeadline = null;
  }

  /** The socket dropped (or never made it through resync): start the recovery cycle. */
  private lost(): void {
    this.resyncGeneration++; // an in-flight resync no longer counts
    this.outageGeneration++;
    this.clearTimer("resyncTimer");
    this.clearRetryTimers();
    this.attempt = 0;
    this.lastPollOk = null;
    this.scheduleNextAttempt();
  }

  private stopSocket(): void {
    if (this.socketState !== "disconnected" && this.socketState !== "initialized") {
      // Stop pusher-js' own retry loop: we drive the retries.
      this.expectingDisconnect = true;
    }
    this.opts.socket.disconnect();
  }

  private scheduleNextAttempt(): void {
    this.phase = "waiting";
    this.stopSocket();
    this.startPolling();
    const delay = backoffDelayMs(
      this.attempt,
      this.opts.random,
      this.opts.backoffBaseMs,
      this.opts.backoffCapMs,
    );
    this.nextAttemptAt = this.opts.clock.now() + delay;
    this.retryTimer = this.opts.clock.setTimeout(() => {
      this.retryTimer = null;
      this.beginAttempt(true);
    }, delay);
    this.emit();
  }

  private beginAttempt(counts: boolean): void {
    this.phase = "connecting";
    this.nextAttemptAt = null;
    if (counts) this.attempt += 1;
    this.attemptDeadline = this.opts.clock.now() + this.opts.attemptTimeoutMs;
    this.clearTimer("attemptTimer");
    this.attemptTimer = this.opts.clock.setTimeout(() => {
      this.attemptTimer = null;
      if (this.phase === "connecting") this.attemptFailed();
    }, this.opts.attemptTimeoutMs);
    this.emit();
    this.opts.socket.connect();
  }

  private attemptFailed(): void {
    this.clearRetryTimers();
    this.scheduleNextAttempt();
  }

  private runResync(): void {
    const generation = ++this.resyncGeneration;
    this.opts.resync().then(
      () => {
        if (generation !== this.resyncGeneration || this.phase !== "resyncing") return;
        this.phase = "live";
        this.attempt = 0;
        this.resyncFailures = 0;
        this.stopPolling();
        this.emit();
      },
      () => {
        if (generation !== this.resyncGeneration || this.phase !== "resyncing") return;
        // Still connected (events keep being buffered): try the snapshot again soon.
        const delay = backoffDelayMs(
          this.resyncFailures++,
          this.opts.random,
          this.opts.backoffBaseMs,
          Math.min(this.opts.backoffCapMs, this.opts.pollIntervalMs),
        );
        this.startPolling();
        this.resyncTimer = this.opts.clock.setTimeout(() => {
          this.resyncTimer = null;
          if (this.phase === "resyncing") this.runResync();
        }, delay);
        this.emit();
      },
    );
  }

  private startPolling(): void {
    if (this.pollTimer !== null) return;
    this.pollTimer = this.opts.clock.setInterval(() => this.pollOnce(), this.opts.pollIntervalMs);
    this.pollOnce();
  }

  private stopPolling(): void {
    if (this.pollTimer !== null) this.opts.clock.clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.lastPollOk = null;
  }

  private pollOnce(): void {
    if (this.pollInFlight || this.phase === "live" || this.phase === "stopped") return;
    this.pollInFlight = true;
    const outage = this.outageGeneration;
    const wanted = () =>
      outage === this.outageGeneration && (this.phase === "waiting" || this.phase === "connecting");
    this.opts.poll(wanted).then(
      () => {
        this.pollInFlight = false;
        if (!wanted()) return;
        this.lastPollOk = true;
        this.emit();
      },
      () => {
        this.pollInFlight = false;
        if (outage !== this.outageGeneration || this.phase === "live" || this.phase === "stopped") return;
        this.lastPollOk = false;
        this.emit();
      },
    );
  }
}
