import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, type LiveApi } from "./api";
import { DashboardController } from "./controller";
import type { RealtimeHandlers } from "./realtime";
import type { CallEvent, CallLog } from "./types";

function log(callId: string, status: string): CallLog {
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
