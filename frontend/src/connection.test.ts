import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ConnectionSupervisor,
  countdownText,
  delayedSeconds,
  displayState,
  withDelay,
  type ConnectionView,
} from "./connection";

/** Mimics the bits of pusher-js' connection the supervisor relies on. */
class FakeSocket {
  state = "connecting";
  connects = 0;
  disconnects = 0;
  listener: (c: { previous: string; current: string }) => void = () => undefined;

  set(current: string): void {
    const previous = this.state;
    if (previous === current) return;
    this.state = current;
    this.listener({ previous, current });
  }

  connect(): void {
    this.connects += 1;
    this.set("connecting");
  }

  disconnect(): void {
    this.disconnects += 1;
    this.set("disconnected");
  }
}

interface Harness {
  socket: FakeSocket;
  sup: ConnectionSupervisor;
  views: ConnectionView[];
  resync: ReturnType<typeof vi.fn>;
  poll: ReturnType<typeof vi.fn>;
  applied: string[];
  state: () => string;
}

function setup(opts: { random?: number; pollOk?: boolean; resyncOk?: boolean } = {}): Harness {
  const socket = new FakeSocket();
  const views: ConnectionView[] = [];
  const applied: string[] = [];
  const flags = { pollOk: opts.pollOk ?? true, resyncOk: opts.resyncOk ?? true };
  const resync = vi.fn(async () => {
    if (!flags.resyncOk) throw new Error("resync failed");
    applied.push("resync");
  });
  const poll = vi.fn(async (stillWanted: () => boolean) => {
    await Promise.resolve();
    if (!flags.pollOk) throw new Error("poll failed");
    if (stillWanted()) applied.push("poll");
  });
  const sup = new ConnectionSupervisor({
    socket,
    resync,
    poll,
    random: () => opts.random ?? 0.5,
    onChange: (v) => views.push(v),
  });
  socket.listener = (c) => sup.handleStateChange(c);
  const h: Harness = { socket, sup, views, resync, poll, applied, state: () => sup.view.state };
  Object.defineProperty(h, "flags", { value: flags });
  return h;
}

function flags(h: Harness): { pollOk: boolean; resyncOk: boolean } {
  return (h as unknown as { flags: { pollOk: boolean; resyncOk: boolean } }).flags;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

async function goLive(h: Harness): Promise<void> {
  h.sup.start("connecting");
  h.socket.set("connected");
  await settle();
  expect(h.sup.view.phase).toBe("live");
  h.socket.connects = 0;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2025-01-01T00:00:00Z"));
});

afterEach(() => {
  vi.useRealTimers();
});

describe("displayState", () => {
  it("maps phase and poll outcome", () => {
    expect(displayState("live", true)).toBe("live");
    expect(displayState("waiting", null)).toBe("reconnecting");
    expect(displayState("connecting", true)).toBe("polling");
    expect(displayState("resyncing", false)).toBe("offline");
  });
});

describe("countdownText", () => {
  const base: ConnectionView = {
    state: "reconnecting",
    phase: "waiting",
    attempt: 2,
    nextAttemptAt: 10_000,
    attemptDeadline: null,
    lastPollOk: null,
    socketState: "disconnected",
  };
  it("counts down to the next attempt", () => {
    expect(countdownText(base, 6_500)).toBe("Reconnecting in 4s (attempt 3)");
    expect(countdownText(base, 11_000)).toBe("Reconnecting in 0s (attempt 3)");
  });
  it("shows the attempt in progress", () => {
    const v = { ...base, phase: "connecting" as const, nextAttemptAt: null, attemptDeadline: 5_000 };
    expect(countdownText(v, 1_000)).toBe("Connecting, attempt 2… 4s");
    expect(countdownText({ ...v, attempt: 0 }, 1_000)).toBe("Connecting… 4s");
    expect(countdownText({ ...v, phase: "resyncing" }, 0)).toMatch(/\ds/);
    expect(countdownText({ ...v, phase: "live", state: "live" }, 0)).toBe("");
  });
});

describe("delayed", () => {
  const live: ConnectionView = {
    state: "live",
    phase: "live",
    attempt: 0,
    nextAttemptAt: null,
    attemptDeadline: null,
    lastPollOk: null,
    socketState: "connected",
  };
  it("only a live connection shows as delayed", () => {
    expect(withDelay(live, null)).toBe(live);
    expect(withDelay(live, 1_000)).toEqual({ ...live, state: "delayed", delayedSince: 1_000 });
    const waiting: ConnectionView = { ...live, state: "reconnecting", phase: "waiting" };
    expect(withDelay(waiting, 1_000)).toBe(waiting);
  });
  it("counts whole seconds since the delay began", () => {
    const delayed = withDelay(live, 1_000);
    expect(delayedSeconds(delayed, 25_999)).toBe(24);
    expect(delayedSeconds(delayed, 500)).toBe(0);
    expect(delayedSeconds(live, 25_999)).toBe(0);
    expect(countdownText(delayed, 25_999)).toBe("");
  });
});

describe("ConnectionSupervisor", () => {
  it("resyncs before going live on the first connection", async () => {
    const h = setup();
    h.sup.start("connecting");
    expect(h.state()).toBe("reconnecting");
    expect(h.sup.view.phase).toBe("connecting");
    h.socket.set("connected");
    expect(h.sup.view.phase).toBe("resyncing");
    expect(h.state()).toBe("reconnecting");
    await settle();
    expect(h.state()).toBe("live");
    expect(h.resync).toHaveBeenCalledTimes(1);
    expect(h.poll).not.toHaveBeenCalled();
  });

  it("on a drop: shows reconnecting, polls, and reconnects with backoff", async () => {
    const h = setup({ random: 0.5 });
    await goLive(h);
    // pusher-js goes connected -> connecting when the socket closes.
    h.socket.set("connecting");
    expect(h.state()).toBe("reconnecting");
    expect(h.sup.view.phase).toBe("waiting");
    // We stopped pusher's own retry loop.
    expect(h.socket.state).toBe("disconnected");
    expect(h.sup.view.nextAttemptAt).toBe(Date.now() + 500); // random 0.5 * 1 s
    expect(h.poll).toHaveBeenCalledTimes(1); // immediate first poll
    await settle();
    expect(h.state()).toBe("polling");
    expect(h.applied).toEqual(["resync", "poll"]);

    vi.advanceTimersByTime(500);
    expect(h.sup.view.phase).toBe("connecting");
    expect(h.sup.view.attempt).toBe(1);
    expect(h.socket.connects).toBe(1);
    h.socket.set("connected");
    await settle();
    expect(h.state()).toBe("live");
    expect(h.resync).toHaveBeenCalledTimes(2);
    // Polling stopped once live.
    const polls = h.poll.mock.calls.length;
    vi.advanceTimersByTime(20_000);
    expect(h.poll.mock.calls.length).toBe(polls);
  });

  it("keeps retrying forever with growing (capped) full-jitter delays", async () => {
    const h = setup({ random: 0.999 });
    await goLive(h);
    h.socket.set("unavailable");
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const v = h.sup.view;
      expect(v.phase).toBe("waiting");
      const delay = v.nextAttemptAt! - Date.now();
      delays.push(delay);
      vi.advanceTimersByTime(delay);
      expect(h.sup.view.phase).toBe("connecting");
      // The attempt fails (pusher would keep "connecting"; the attempt times out).
      vi.advanceTimersByTime(5000);
    }
    expect(delays).toEqual([999, 1998, 3996, 7992, 15984, 29970, 29970, 29970, 29970, 29970]);
    expect(h.socket.connects).toBe(10);
    expect(h.sup.view.attempt).toBe(10);
  });

  it("a failed attempt reported by pusher schedules the next one right away", async () => {
    const h = setup({ random: 0 });
    await goLive(h);
    h.socket.set("failed");
    vi.advanceTimersByTime(0);
    expect(h.sup.view.phase).toBe("connecting");
    h.socket.set("unavailable");
    expect(h.sup.view.phase).toBe("waiting");
    expect(h.sup.view.attempt).toBe(1);
  });

  it("shows offline when polling fails too, polling when it recovers", async () => {
    const h = setup({ pollOk: false, random: 0.999 });
    await goLive(h);
    h.socket.set("disconnected");
    await settle();
    expect(h.state()).toBe("offline");
    flags(h).pollOk = true;
    vi.advanceTimersByTime(5000);
    await settle();
    expect(h.state()).toBe("polling");
  });

  it("polls every 5 s while down", async () => {
    const h = setup({ random: 0.999 });
    await goLive(h);
    h.socket.set("disconnected");
    await settle();
    expect(h.poll).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(h.poll).toHaveBeenCalledTimes(4);
  });

  it("ignores its own disconnect", async () => {
    const h = setup();
    await goLive(h);
    h.socket.set("connecting");
    expect(h.socket.disconnects).toBe(1);
    expect(h.sup.view.attempt).toBe(0);
    expect(h.sup.view.phase).toBe("waiting");
  });

  it("drops a late poll result once live again", async () => {
    const h = setup({ random: 0 });
    await goLive(h);
    h.socket.set("connecting");
    // The poll promise has not resolved yet; reconnect right away.
    vi.advanceTimersByTime(0);
    h.socket.set("connected");
    await settle();
    expect(h.state()).toBe("live");
    expect(h.applied).toEqual(["resync", "resync"]);
  });

  it("retries the resync while connected when it fails", async () => {
    const h = setup({ resyncOk: false, random: 0.999 });
    h.sup.start("connecting");
    h.socket.set("connected");
    await settle();
    expect(h.sup.view.phase).toBe("resyncing");
    flags(h).resyncOk = true;
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.resync).toHaveBeenCalledTimes(2);
    expect(h.state()).toBe("live");
  });

  it("a drop during resync restarts recovery and ignores the stale resync", async () => {
    const h = setup({ random: 0.999 });
    let release: () => void = () => undefined;
    h.resync.mockImplementationOnce(() => new Promise<void>((r) => (release = r)));
    h.sup.start("connecting");
    h.socket.set("connected");
    h.socket.set("connecting");
    expect(h.sup.view.phase).toBe("waiting");
    release();
    await settle();
    expect(h.sup.view.phase).toBe("waiting");
  });

  it("the first connection timing out falls back to polling and retries", async () => {
    const h = setup({ random: 0.999 });
    h.sup.start("connecting");
    vi.advanceTimersByTime(5000);
    expect(h.sup.view.phase).toBe("waiting");
    await settle();
    expect(h.state()).toBe("polling");
    vi.advanceTimersByTime(999);
    expect(h.sup.view.phase).toBe("connecting");
    h.socket.set("connected");
    await settle();
    expect(h.state()).toBe("live");
  });

  it("retryNow skips the countdown", async () => {
    const h = setup({ random: 0.999 });
    await goLive(h);
    h.socket.set("unavailable");
    h.sup.retryNow();
    expect(h.sup.view.phase).toBe("connecting");
    expect(h.socket.connects).toBe(1);
  });

  it("stop clears timers and ignores later changes", async () => {
    const h = setup();
    await goLive(h);
    h.sup.stop();
    h.socket.set("unavailable");
    vi.advanceTimersByTime(60_000);
    expect(h.socket.connects).toBe(0);
    expect(h.poll).not.toHaveBeenCalled();
    expect(h.sup.view.phase).toBe("stopped");
  });
});
