import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, type LiveApi } from "./api";
import { DashboardController } from "./controller";
import type { RealtimeHandlers } from "./realtime";
import type { CallEvent, CallLog, CallStatus, ExtensionStatus, ExtensionStatusResponse, SyncPayload } from "./types";

function log(callId: string, status: CallStatus): CallLog {
  return {
    id: 1,
    call_id: callId,
    direction: "inbound",
    from_number: "+1",
    to_number: "+2",
    did_id: null,
    did: null,
    extension_id: null,
    extension: null,
    answered_by: null,
    status,
    initiated_at: "2025-01-01T00:00:00.000Z",
    answered_at: null,
    ended_at: null,
    duration: null,
    recording_url: null,
  };
}

function extension(id: number, number: string, online: boolean | null = true): ExtensionStatus {
  return { id, number, user: { id: id * 10, name: `User ${number}` }, state: online ? "available" : "offline", online, call: null };
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function makeApi(overrides: Partial<LiveApi> = {}): LiveApi & { calls: string[] } {
  const calls: string[] = [];
  const api: LiveApi = {
    login: vi.fn(),
    logout: vi.fn(async () => undefined),
    me: vi.fn(),
    realtimeConfig: async () => ({
      key: "k",
      ws_host: "",
      ws_port: 6001,
      force_tls: false,
      auth_endpoint: "/api/v1/broadcasting/auth",
    }),
    activeCalls: async () => {
      calls.push("active");
      return { data: [log("snap", "ringing")], server_time: "2025-01-01T00:00:10.000Z" };
    },
    recentCalls: async () => {
      calls.push("recent");
      return { data: [log("old", "completed")] };
    },
    statistics: async () => {
      calls.push("stats");
      return {
        data: { date: "2025-01-01", total: 3, active: 1, answered: 2, missed: 1, average_duration: 5, longest_wait: 3 },
        server_time: "2025-01-01T00:00:10.000Z",
      };
    },
    extensionStatus: async () => {
      calls.push("extensions");
      return { data: [extension(1, "101")], server_time: "2025-01-01T00:00:10.000Z", seq: 0 };
    },
    callLogs: vi.fn(),
    callDetail: vi.fn(),
    ...overrides,
  };
  return Object.assign(api, { calls });
}

function setup(api: LiveApi, subscribed: () => Promise<void> = () => Promise.resolve()) {
  let handlers!: RealtimeHandlers;
  const socket = { connect: vi.fn(), disconnect: vi.fn() };
  const close = vi.fn();
  const onUnauthorized = vi.fn();
  const controller = new DashboardController({
    api,
    token: "tok",
    organizationId: 5,
    onUnauthorized,
    random: () => 0,
    realtime: (_config, token, org, h) => {
      expect(token).toBe("tok");
      expect(org).toBe(5);
      handlers = h;
      return { socket, initialState: "connecting", subscribed, close };
    },
  });
  return {
    controller,
    socket,
    close,
    onUnauthorized,
    handlers: () => handlers,
    state: () => controller.store.get(),
  };
}

const initiated = (callId: string, eventId: string): CallEvent => ({
  name: "call.initiated",
  payload: { event_id: eventId, call_id: callId, from_number: "+1", to_number: "+2", initiated_at: "2025-01-01T00:00:05.000Z" },
});
const ended = (callId: string, eventId: string): CallEvent => ({
  name: "call.ended",
  payload: { event_id: eventId, call_id: callId, status: "completed", ended_at: "2025-01-01T00:00:09.000Z", duration: 4 },
});

async function flush(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2025-01-01T00:00:00.000Z"));
});
afterEach(() => vi.useRealTimers());

describe("DashboardController", () => {
  it("buffers events until the snapshot is applied, then applies them in order", async () => {
    const active = deferred<{ data: CallLog[]; server_time: string }>();
    const api = makeApi({ activeCalls: () => active.promise });
    const h = setup(api);
    await h.controller.start();
    h.handlers().onStateChange({ previous: "connecting", current: "connected" });
    // Events arrive while the snapshot is in flight.
    h.handlers().onEvent(initiated("new", "e1"));
    h.handlers().onEvent(ended("snap", "e2"));
    h.handlers().onEvent(ended("snap", "e2")); // duplicate
    expect(h.state().calls.eventsApplied).toBe(0);
    active.resolve({ data: [log("snap", "ringing")], server_time: "2025-01-01T00:00:10.000Z" });
    await flush();
    const s = h.state();
    expect(s.connection.state).toBe("live");
    expect(s.calls.snapshotsApplied).toBe(1);
    expect(s.calls.eventsApplied).toBe(2);
    expect(s.calls.calls.snap!.status).toBe("completed");
    expect(s.calls.calls.new!.status).toBe("initiated");
    expect(s.clockOffsetMs).toBe(10_000);
    expect(s.recent.map((c) => c.call_id)).toEqual(["old"]);
    expect(s.stats?.answered).toBe(2);
  });

  it("reads the snapshot only once the channel is subscribed, so no event falls in between", async () => {
    const subscription = deferred<void>();
    const api = makeApi();
    const h = setup(api, () => subscription.promise);
    await h.controller.start();
    h.handlers().onStateChange({ previous: "connecting", current: "connected" });
    await flush();
    expect(api.calls).not.toContain("active");
    expect(h.state().connection.state).not.toBe("live");
    subscription.resolve();
    await flush();
    expect(api.calls).toContain("active");
    expect(h.state().connection.state).toBe("live");
  });

  it("applies live events directly and refreshes recent + stats after call.ended", async () => {
    const api = makeApi();
    const h = setup(api);
    await h.controller.start();
    h.handlers().onStateChange({ previous: "connecting", current: "connected" });
    await flush();
    api.calls.length = 0;
    h.handlers().onEvent(ended("snap", "e1"));
    expect(h.state().calls.calls.snap!.status).toBe("completed");
    await vi.advanceTimersByTimeAsync(300);
    expect(api.calls.sort()).toEqual(["recent", "stats"]);
    // The ended row disappears after ~3 s.
    await vi.advanceTimersByTimeAsync(3000);
    expect(h.state().calls.calls.snap).toBeUndefined();
  });

  it("refreshes stats every 10 s", async () => {
    const api = makeApi();
    const h = setup(api);
    await h.controller.start();
    h.handlers().onStateChange({ previous: "connecting", current: "connected" });
    await flush();
    api.calls.length = 0;
    await vi.advanceTimersByTimeAsync(20_000);
    expect(api.calls.filter((c) => c === "stats").length).toBe(2);
  });

  it("polls while down, shows polling, and resyncs on reconnect", async () => {
    const api = makeApi();
    const h = setup(api);
    await h.controller.start();
    h.handlers().onStateChange({ previous: "connecting", current: "connected" });
    await flush();
    h.handlers().onStateChange({ previous: "connected", current: "connecting" });
    expect(h.socket.disconnect).toHaveBeenCalled();
    await flush();
    expect(h.state().connection.state).toBe("polling");
    expect(h.state().calls.snapshotsApplied).toBe(2);
    expect(h.socket.connect).toHaveBeenCalled();
    h.handlers().onStateChange({ previous: "connecting", current: "connected" });
    await flush();
    expect(h.state().connection.state).toBe("live");
    expect(h.state().calls.snapshotsApplied).toBe(3);
  });

  it("reads the extensions on start, before the socket is up, and again on every resync", async () => {
    const api = makeApi();
    const h = setup(api);
    await h.controller.start();
    await flush();
    expect(api.calls).toEqual(["extensions"]);
    expect(h.state().extensions.map((e) => e.number)).toEqual(["101"]);
    h.handlers().onStateChange({ previous: "connecting", current: "connected" });
    await flush();
    expect(api.calls.filter((c) => c === "extensions")).toHaveLength(2);
    expect(h.state().connection.state).toBe("live");
  });

  it("reads the extensions on every poll while down", async () => {
    const api = makeApi();
    const h = setup(api);
    await h.controller.start();
    h.handlers().onStateChange({ previous: "connecting", current: "connected" });
    await flush();
    api.calls.length = 0;
    h.handlers().onStateChange({ previous: "connected", current: "unavailable" });
    await flush();
    expect(h.state().connection.state).toBe("polling");
    expect(api.calls.filter((c) => c === "extensions")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5_000); // POLL_INTERVAL_MS; the retry is due at once (random() is 0)
    expect(api.calls.filter((c) => c === "extensions").length).toBeGreaterThanOrEqual(2);
  });

  it("keeps the newest extension snapshot when an older answer comes in late", async () => {
    const answers: Array<ReturnType<typeof deferred<ExtensionStatusResponse>>> = [];
    const api = makeApi({
      extensionStatus: () => {
        const answer = deferred<ExtensionStatusResponse>();
        answers.push(answer);
        return answer.promise;
      },
    });
    const h = setup(api);
    await h.controller.start();
    h.handlers().onStateChange({ previous: "connecting", current: "connected" });
    await flush();
    expect(answers).toHaveLength(2);
    answers[1]!.resolve({ data: [extension(1, "101", false)], server_time: "2025-01-01T00:00:10.000Z", seq: 0 });
    await flush();
    answers[0]!.resolve({ data: [extension(1, "101", true)], server_time: "2025-01-01T00:00:09.000Z", seq: 0 });
    await flush();
    expect(h.state().extensions[0]!.online).toBe(false);
  });

  it("signs out when the extensions answer 401", async () => {
    const api = makeApi({
      extensionStatus: async () => {
        throw new ApiError(401, "Unauthenticated");
      },
    });
    const h = setup(api);
    await h.controller.start();
    await flush();
    expect(h.onUnauthorized).toHaveBeenCalled();
  });

  it("applies call.ringing live, without reading a snapshot or the recent calls", async () => {
    const api = makeApi();
    const h = setup(api);
    await h.controller.start();
    h.handlers().onStateChange({ previous: "connecting", current: "connected" });
    await flush();
    h.handlers().onEvent(initiated("r", "e1"));
    api.calls.length = 0;
    h.handlers().onEvent({
      name: "call.ringing",
      payload: { event_id: "e2", call_id: "r", status: "ringing", ringing_at: "2025-01-01T00:00:06.000Z", extension_id: 1 },
    });
    expect(h.state().calls.calls.r).toMatchObject({ status: "ringing", extension_id: 1 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(api.calls).toEqual([]);
  });

  it("lists the recent calls by the time they show, newest first", async () => {
    const at = (callId: string, initiatedAt: string, endedAt: string | null): CallLog => ({
      ...log(callId, endedAt ? "completed" : "answered"),
      initiated_at: initiatedAt,
      ended_at: endedAt,
    });
    const api = makeApi({
      recentCalls: async () => ({
        data: [
          at("short", "2025-01-01T00:00:05.000Z", "2025-01-01T00:00:06.000Z"),
          at("long", "2025-01-01T00:00:01.000Z", "2025-01-01T00:00:09.000Z"),
        ],
      }),
    });
    const h = setup(api);
    await h.controller.start();
    h.handlers().onStateChange({ previous: "connecting", current: "connected" });
    await flush();
    expect(h.state().recent.map((c) => c.call_id)).toEqual(["long", "short"]);
  });

  it("keeps presence members deduplicated", async () => {
    const h = setup(makeApi());
    await h.controller.start();
    h.handlers().onHere([{ id: 1, name: "Ada" }]);
    h.handlers().onJoining({ id: 2, name: "Bo" });
    h.handlers().onJoining({ id: 2, name: "Bo" });
    h.handlers().onLeaving({ id: 1, name: "Ada" });
    expect(h.state().members.map((m) => m.id)).toEqual([2]);
  });

  it("signs out on 401", async () => {
    const api = makeApi({
      activeCalls: async () => {
        throw new ApiError(401, "Unauthenticated");
      },
    });
    const h = setup(api);
    await h.controller.start();
    h.handlers().onStateChange({ previous: "connecting", current: "connected" });
    await flush();
    expect(h.onUnauthorized).toHaveBeenCalled();
  });

  it("stop closes the realtime connection and ignores later events", async () => {
    const h = setup(makeApi());
    await h.controller.start();
    h.controller.stop();
    expect(h.close).toHaveBeenCalled();
    h.handlers().onEvent(initiated("x", "e1"));
    expect(h.state().calls.calls.x).toBeUndefined();
  });
});

// ---------------------------------------------------------------- sequence numbers and sync

function withSeq(event: CallEvent, seq: number): CallEvent {
  return { ...event, payload: { ...event.payload, seq } } as CallEvent;
}
const answered = (callId: string, eventId: string): CallEvent => ({
  name: "call.answered",
  payload: { event_id: eventId, call_id: callId, status: "answered", answered_at: "2025-01-01T00:00:07.000Z" },
});

interface Snapshot {
  data: CallLog[];
  server_time: string;
  seq: number;
}

/** An API whose /active answers come from `snapshots` in turn (the last one repeats). */
function seqApi(snapshots: Array<Snapshot | Error | (() => Promise<Snapshot>)>): LiveApi & { calls: string[] } {
  let next = 0;
  const api = makeApi({
    activeCalls: async () => {
      api.calls.push("active");
      const answer = snapshots[Math.min(next++, snapshots.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return typeof answer === "function" ? answer() : answer;
    },
  });
  return api;
}

const snapshot = (seq: number, ...calls: CallLog[]): Snapshot => ({
  data: calls,
  server_time: "2025-01-01T00:00:10.000Z",
  seq,
});

async function live(h: ReturnType<typeof setup>): Promise<void> {
  await h.controller.start();
  h.handlers().onStateChange({ previous: "connecting", current: "connected" });
  await flush();
  expect(h.state().connection.state).toBe("live");
}

function reads(api: { calls: string[] }): number {
  return api.calls.filter((c) => c === "active").length;
}

describe("DashboardController: event sequence", () => {
  it("applies events newer than the snapshot's seq and drops the ones it reflects", async () => {
    const api = seqApi([snapshot(10, log("snap", "ringing"))]);
    const h = setup(api);
    await live(h);
    expect(h.state().calls.seq).toBe(10);
    h.handlers().onEvent(withSeq(initiated("old", "e9"), 9));
    h.handlers().onEvent(withSeq(ended("snap", "e10"), 10));
    h.handlers().onEvent(withSeq(answered("snap", "e11"), 11));
    h.handlers().onEvent(withSeq(answered("snap", "e11-again"), 11)); // replayed with another id
    const s = h.state();
    expect(s.calls.calls.old).toBeUndefined();
    expect(s.calls.calls.snap!.status).toBe("answered");
    expect(s.calls.seq).toBe(11);
    expect(s.calls.eventsApplied).toBe(1);
    expect(s.calls.eventsIgnored).toBe(3);
    expect(reads(api)).toBe(1);
  });

  it("after a reconnect, applies the buffered events newer than the snapshot, in seq order", async () => {
    const active = deferred<Snapshot>();
    const api = seqApi([snapshot(3), () => active.promise]);
    const h = setup(api);
    await live(h);
    h.handlers().onStateChange({ previous: "connected", current: "connecting" });
    await flush();
    h.handlers().onStateChange({ previous: "connecting", current: "connected" });
    h.handlers().onEvent(withSeq(answered("a", "e6"), 6));
    h.handlers().onEvent(withSeq(initiated("b", "e7"), 7));
    h.handlers().onEvent(withSeq(initiated("a", "e5"), 5));
    await flush();
    active.resolve(snapshot(5, log("a", "initiated")));
    await flush();
    const s = h.state();
    expect(s.connection.state).toBe("live");
    expect(s.calls.seq).toBe(7);
    expect(s.calls.calls.a!.status).toBe("answered");
    expect(s.calls.calls.b!.status).toBe("initiated");
  });

  it("on a gap, holds the event, re-reads the snapshot, then applies what is newer", async () => {
    const reread = deferred<Snapshot>();
    const api = seqApi([snapshot(10, log("snap", "ringing")), () => reread.promise]);
    const h = setup(api);
    await live(h);
    // 11 and 12 were lost on the way.
    h.handlers().onEvent(withSeq(answered("lost", "e13"), 13));
    expect(h.state().calls.calls.lost).toBeUndefined();
    await flush();
    expect(reads(api)).toBe(2);
    h.handlers().onEvent(withSeq(ended("snap", "e14"), 14)); // held too, behind the gap
    expect(h.state().calls.calls.snap!.status).toBe("ringing");
    reread.resolve(snapshot(12, log("snap", "ringing"), log("lost", "initiated")));
    await flush();
    const s = h.state();
    expect(s.calls.seq).toBe(14);
    expect(s.calls.calls.lost!.status).toBe("answered");
    expect(s.calls.calls.snap!.status).toBe("completed");
    expect(s.calls.snapshotsApplied).toBe(2);
    expect(s.connection.state).toBe("live");
    // Live again: the next event applies at once.
    h.handlers().onEvent(withSeq(initiated("next", "e15"), 15));
    expect(h.state().calls.calls.next).toBeDefined();
  });

  it("reads another snapshot when the held events still skip one after the first", async () => {
    const api = seqApi([snapshot(10), snapshot(11), snapshot(13, log("c", "answered"))]);
    const h = setup(api);
    await live(h);
    h.handlers().onEvent(withSeq(initiated("c", "e13"), 13));
    h.handlers().onEvent(withSeq(ended("c", "e14"), 14));
    await flush();
    expect(reads(api)).toBe(3);
    expect(h.state().calls.seq).toBe(14);
    expect(h.state().calls.calls.c!.status).toBe("completed");
  });

  it("retries a failed re-read while live; the held events wait for it", async () => {
    const api = seqApi([snapshot(1), new Error("502"), snapshot(2, log("c", "initiated"))]);
    const h = setup(api);
    await live(h);
    h.handlers().onEvent(withSeq(ended("c", "e3"), 3));
    await flush();
    expect(reads(api)).toBe(2);
    expect(h.state().calls.calls.c).toBeUndefined();
    await vi.advanceTimersByTimeAsync(250); // CATCH_UP_MIN_MS (random() is 0)
    expect(reads(api)).toBe(3);
    expect(h.state().calls.calls.c!.status).toBe("completed");
    expect(h.state().calls.seq).toBe(3);
    expect(h.state().connection.state).toBe("live");
  });
});

describe("DashboardController: sync and delay", () => {
  it("a sync ahead whose events follow within the grace: no re-read, stays live", async () => {
    const api = seqApi([snapshot(10)]);
    const h = setup(api);
    await live(h);
    h.handlers().onSync({ seq: 12, interval: 10, server_time: "2025-01-01T00:00:10.000Z" });
    expect(h.state().delivery).toEqual({ syncSeq: 12, syncsHeard: 1 });
    await vi.advanceTimersByTimeAsync(500);
    h.handlers().onEvent(withSeq(initiated("a", "e11"), 11));
    h.handlers().onEvent(withSeq(initiated("b", "e12"), 12));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(reads(api)).toBe(1);
    expect(h.state().connection.state).toBe("live");
    expect(h.state().calls.eventsApplied).toBe(2);
  });

  it("a sync ahead not caught up within the grace: delayed since the sync, re-reads, live again", async () => {
    const reread = deferred<Snapshot>();
    const api = seqApi([snapshot(10), () => reread.promise]);
    const h = setup(api);
    await live(h);
    await vi.advanceTimersByTimeAsync(1_000);
    const syncAt = Date.now();
    h.handlers().onSync({ seq: 13, interval: 10 });
    await vi.advanceTimersByTimeAsync(2_999);
    expect(h.state().connection.state).toBe("live");
    expect(reads(api)).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(reads(api)).toBe(2);
    expect(h.state().connection.state).toBe("delayed");
    expect(h.state().connection.delayedSince).toBe(syncAt);
    h.handlers().onEvent(withSeq(initiated("late", "e14"), 14)); // during the re-read: held
    reread.resolve(snapshot(13, log("a", "answered")));
    await flush();
    const s = h.state();
    expect(s.connection.state).toBe("live");
    expect(s.connection.delayedSince ?? null).toBeNull();
    expect(s.calls.seq).toBe(14);
    expect(Object.keys(s.calls.calls).sort()).toEqual(["a", "late"]);
  });

  it("no sync for two intervals: delayed since the last one; live again when a sync comes and nothing is missing", async () => {
    const api = seqApi([snapshot(5)]);
    const h = setup(api);
    await live(h);
    await vi.advanceTimersByTimeAsync(4_000);
    h.handlers().onSync({ seq: 5, interval: 10 });
    const heardAt = Date.now();
    await vi.advanceTimersByTimeAsync(19_999);
    expect(h.state().connection.state).toBe("live");
    await vi.advanceTimersByTimeAsync(1);
    expect(h.state().connection.state).toBe("delayed");
    expect(h.state().connection.delayedSince).toBe(heardAt);
    // The socket is up: nothing to reconnect, nothing polled.
    expect(h.state().connection.phase).toBe("live");
    expect(reads(api)).toBe(1);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.state().connection.state).toBe("delayed");
    expect(h.state().connection.delayedSince).toBe(heardAt);
    h.handlers().onSync({ seq: 5, interval: 10 });
    expect(h.state().connection.state).toBe("live");
  });

  it("recovery: the outage's events then the sync; delayed until the page has them all", async () => {
    const api = seqApi([snapshot(5, log("a", "ringing"))]);
    const h = setup(api);
    await live(h);
    h.handlers().onSync({ seq: 5, interval: 10 });
    await vi.advanceTimersByTimeAsync(45_000);
    expect(h.state().connection.state).toBe("delayed");
    // Delivery resumes: the sync first (its events are not due yet), then the events.
    h.handlers().onSync({ seq: 8, interval: 10 });
    expect(h.state().connection.state).toBe("delayed");
    h.handlers().onEvent(withSeq(answered("a", "e6"), 6));
    h.handlers().onEvent(withSeq(initiated("b", "e7"), 7));
    expect(h.state().connection.state).toBe("delayed");
    h.handlers().onEvent(withSeq(ended("a", "e8"), 8));
    expect(h.state().connection.state).toBe("live");
    expect(h.state().calls.calls.a!.status).toBe("completed");
    expect(h.state().calls.calls.b!.status).toBe("initiated");
    expect(reads(api)).toBe(1);
  });

  it("a dropped socket shows reconnecting, not delayed; after reconnecting the silence counts afresh", async () => {
    const api = seqApi([snapshot(5)]);
    const h = setup(api);
    await live(h);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(h.state().connection.state).toBe("delayed");
    h.handlers().onStateChange({ previous: "connected", current: "connecting" });
    await flush();
    expect(h.state().connection.state).toBe("polling");
    h.handlers().onStateChange({ previous: "connecting", current: "connected" });
    await flush();
    expect(h.state().connection.state).toBe("live");
    await vi.advanceTimersByTimeAsync(19_000);
    expect(h.state().connection.state).toBe("live");
  });

  it("a sync announcing a default interval when it has none, and one without a seq still counts as heard", async () => {
    const api = seqApi([snapshot(5)]);
    const h = setup(api);
    await live(h);
    await vi.advanceTimersByTimeAsync(15_000);
    h.handlers().onSync({} as SyncPayload);
    expect(h.state().delivery).toEqual({ syncSeq: null, syncsHeard: 1 });
    await vi.advanceTimersByTimeAsync(19_999);
    expect(h.state().connection.state).toBe("live");
    await vi.advanceTimersByTimeAsync(1);
    expect(h.state().connection.state).toBe("delayed");
  });

  it("stop ends the watch", async () => {
    const h = setup(seqApi([snapshot(5)]));
    await live(h);
    h.controller.stop();
    h.handlers().onSync({ seq: 9, interval: 10 });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.state().connection.state).not.toBe("delayed");
    expect(h.state().delivery.syncsHeard).toBe(0);
  });
});
