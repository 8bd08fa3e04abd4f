// Whether the server's updates are reaching the page, while its socket is up.
//
// The relay publishes `sync` {seq, interval} on the organization's channel every `interval`
// seconds (10): `seq` is the organization's latest committed event. While watched (socket up,
// snapshot applied: the connection is live), the page is *delayed* when
//
//   * silence: no sync has been heard for SILENT_INTERVALS intervals (the relay cannot reach
//     the realtime server, or that server cannot reach the page). Since: the last sync heard
//     (or when the watch began). Over when a sync arrives.
//   * lag: the page knows of a seq it has not applied (a sync ahead of it, or an event after a
//     gap) for longer than LAG_GRACE_MS. The grace is there because a sync may overtake
//     events committed just before it (the relay publishes it after a round of events; the
//     events committed meanwhile go in the next round). Once the grace is over the snapshot
//     is re-read (`onLagging`), again every LAG_GRACE_MS while the lag lasts. Since: when the
//     lag began. Over when what the page has applied reaches every seq it knows of. (A page
//     already delayed gets no grace: a sync ahead of it keeps it delayed, from the same since.)
//
// The clock is injected, so this is tested with fake timers.

import type { Clock } from "./connection";

export const DEFAULT_SYNC_INTERVAL_MS = 10_000;
/** Syncs that may be missed before the page says it is delayed. */
export const SILENT_INTERVALS = 2;
/** How long events may lag behind a seq the page knows of before it re-reads the snapshot. */
export const LAG_GRACE_MS = 3_000;
/** A sync's `interval` (seconds) is taken at its word within these bounds. */
const INTERVAL_BOUNDS_S = [1, 300] as const;

export type DelayReason = "silence" | "lag";

export interface Delay {
  reasons: DelayReason[];
  /** Local ms since which the page is behind (the earliest of its reasons). */
  since: number;
}

export interface FreshnessOptions {
  clock: Clock;
  /** The delay (its reasons or since when) changed: read `delay` again. */
  onChange?: () => void;
  /** Events have lagged for the grace period (and each period after): re-read the snapshot. */
  onLagging?: () => void;
  lagGraceMs?: number;
}

/** A sync's `interval` (seconds) in ms; DEFAULT_SYNC_INTERVAL_MS when missing or absurd. */
export function syncIntervalMs(interval: unknown): number {
  if (typeof interval !== "number" || !Number.isFinite(interval) || interval <= 0) return DEFAULT_SYNC_INTERVAL_MS;
  const [low, high] = INTERVAL_BOUNDS_S;
  return Math.min(Math.max(interval, low), high) * 1000;
}

function sameDelay(a: Delay | null, b: Delay | null): boolean {
  if (a === null || b === null) return a === b;
  return a.since === b.since && a.reasons.join() === b.reasons.join();
}

export class Freshness {
  private readonly clock: Clock;
  private readonly onChange: () => void;
  private readonly onLagging: () => void;
  private readonly lagGraceMs: number;

  private watching = false;
  private stopped = false;
  /** Local ms of the last sync heard, or of the watch's start if later. */
  private heardAt = 0;
  private intervalMs = DEFAULT_SYNC_INTERVAL_MS;
  private silent = false;
  private silenceTimer: unknown = null;

  private applied: number | null = null;
  /** The highest seq the page knows the server has (syncs, events after a gap). */
  private known: number | null = null;
  private lagSince: number | null = null;
  /** The lag has outlasted the grace. */
  private lagging = false;
  private lagTimer: unknown = null;

  constructor(options: FreshnessOptions) {
    this.clock = options.clock;
    this.onChange = options.onChange ?? (() => undefined);
    this.onLagging = options.onLagging ?? (() => undefined);
    this.lagGraceMs = options.lagGraceMs ?? LAG_GRACE_MS;
  }

  /** Null while the page is up to date (or not watched). */
  get delay(): Delay | null {
    if (!this.watching) return null;
    const reasons: DelayReason[] = [];
    let since = Number.POSITIVE_INFINITY;
    if (this.silent) {
      reasons.push("silence");
      since = Math.min(since, this.heardAt);
    }
    if (this.lagging && this.lagSince !== null) {
      reasons.push("lag");
      since = Math.min(since, this.lagSince);
    }
    return reasons.length > 0 ? { reasons, since } : null;
  }

  /** The page has applied less than a seq it knows of. */
  get behind(): boolean {
    return this.known !== null && this.applied !== null && this.applied < this.known;
  }

  /** The sync interval in use (ms): the last sync's, else the default. */
  get interval(): number {
    return this.intervalMs;
  }

  /** The connection is live (socket up, snapshot applied): expect syncs from now on. */
  watch(): void {
    if (this.watching || this.stopped) return;
    this.change(() => {
      this.watching = true;
      this.heardAt = this.clock.now();
      this.armSilence();
      this.updateLag();
    });
  }

  /** Not live (socket down or resyncing after a reconnect): the connection state says it all. */
  pause(): void {
    if (!this.watching) return;
    this.change(() => {
      this.watching = false;
      this.silent = false;
      this.clearSilence();
      this.clearLag();
    });
  }

  stop(): void {
    this.pause();
    this.stopped = true;
  }

  /** A `sync` arrived: `seq` is the server's latest event (null if it sent none). */
  heard(seq: number | null, interval?: unknown): void {
    if (this.stopped) return;
    this.change(() => {
      this.intervalMs = syncIntervalMs(interval);
      if (seq !== null) this.known = Math.max(this.known ?? seq, seq);
      if (this.watching) {
        this.heardAt = this.clock.now();
        this.armSilence();
      }
      this.updateLag();
    });
  }

  /** An event revealed that the server has `seq` (after a gap). */
  exists(seq: number): void {
    if (this.stopped) return;
    this.change(() => {
      this.known = Math.max(this.known ?? seq, seq);
      this.updateLag();
    });
  }

  /** What the page has applied now (events or a snapshot). */
  setApplied(seq: number | null): void {
    if (this.stopped || seq === this.applied) return;
    this.change(() => {
      this.applied = seq;
      this.updateLag();
    });
  }

  // ------------------------------------------------------------------ internals

  private change(mutate: () => void): void {
    const before = this.delay;
    mutate();
    const after = this.delay;
    if (before !== null && after === null && this.watching && this.behind) {
      // Still behind what the page knows of: a page that said Delayed does not say Live
      // yet, the lag shows at once and keeps counting from the delay's start.
      this.lagging = true;
      this.lagSince = Math.min(this.lagSince ?? before.since, before.since);
    }
    if (!sameDelay(before, this.delay)) this.onChange();
  }

  private clearSilence(): void {
    if (this.silenceTimer !== null) this.clock.clearTimeout(this.silenceTimer);
    this.silenceTimer = null;
  }

  private armSilence(): void {
    this.clearSilence();
    this.silent = false;
    const deadline = this.heardAt + SILENT_INTERVALS * this.intervalMs;
    this.silenceTimer = this.clock.setTimeout(
      () => {
        this.silenceTimer = null;
        if (this.watching) this.change(() => (this.silent = true));
      },
      Math.max(0, deadline - this.clock.now()),
    );
  }

  private clearLag(): void {
    if (this.lagTimer !== null) this.clock.clearTimeout(this.lagTimer);
    this.lagTimer = null;
    this.lagSince = null;
    this.lagging = false;
  }

  private updateLag(): void {
    if (!this.watching || !this.behind) {
      this.clearLag();
      return;
    }
    if (this.lagSince === null) {
      this.lagSince = this.clock.now();
      this.armLag();
    }
  }

  private armLag(): void {
    this.lagTimer = this.clock.setTimeout(() => {
      this.lagTimer = null;
      if (!this.watching || !this.behind) return;
      this.change(() => (this.lagging = true));
      this.onLagging();
      // Still behind (the re-read is under way, or failed): try again after another grace.
      if (this.watching && this.behind && this.lagTimer === null) this.armLag();
    }, this.lagGraceMs);
  }
}
