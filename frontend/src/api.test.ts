import { describe, expect, it } from "vitest";
import { ApiError, createApi, isUnauthorized, type FetchLike } from "./api";

interface Call {
  url: string;
  init: RequestInit | undefined;
}

function fakeFetch(status: number, body: unknown, calls: Call[] = []): FetchLike {
  return async (url, init) => {
    calls.push({ url, init });
    const text = typeof body === "string" ? body : JSON.stringify(body);
    return new Response(text, { status, headers: { "Content-Type": "application/json" } });
  };
}

describe("api", () => {
  it("logs in with a JSON body and no auth header", async () => {
    const calls: Call[] = [];
    const api = createApi(() => null, fakeFetch(200, { token: "t", user: { name: "A" } }, calls));
    const res = await api.login("a@b", "pw");
    expect(res.token).toBe("t");
    expect(calls[0]!.url).toBe("/api/v1/auth/login");
    expect(calls[0]!.init!.method).toBe("POST");
    expect(JSON.parse(String(calls[0]!.init!.body))).toEqual({ email: "a@b", password: "pw" });
    const headers = calls[0]!.init!.headers as Record<string, string>;
    expect(headers.Authorization).toBeUndefined();
  });

  it("sends the bearer token", async () => {
    const calls: Call[] = [];
    const api = createApi(() => "tok", fakeFetch(200, { data: [], server_time: "x" }, calls));
    await api.activeCalls();
    await api.recentCalls();
    await api.statistics();
    expect(calls.map((c) => c.url)).toEqual([
      "/api/v1/call-logs/active",
      "/api/v1/call-logs?per_page=10",
      "/api/v1/call-logs/statistics",
    ]);
    for (const c of calls) {
      expect((c.init!.headers as Record<string, string>).Authorization).toBe("Bearer tok");
    }
  });

  it("turns error responses into ApiError with the server's message", async () => {
    const api = createApi(() => null, fakeFetch(401, { error: "Invalid email or password", status: 401 }));
    const err = await api.login("a", "b").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(401);
    expect((err as ApiError).message).toBe("Invalid email or password");
    expect(isUnauthorized(err)).toBe(true);
    expect(isUnauthorized(new Error("x"))).toBe(false);
  });

  it("handles non-JSON errors and network failures", async () => {
    const api = createApi(() => null, fakeFetch(502, "Bad gateway"));
    await expect(api.me()).rejects.toMatchObject({ status: 502, message: "Request failed (HTTP 502)" });
    const down = createApi(
      () => null,
      async () => {
        throw new TypeError("Failed to fetch");
      },
    );
    await expect(down.realtimeConfig()).rejects.toMatchObject({ status: 0, message: "Failed to fetch" });
  });

  it("logout tolerates an empty body", async () => {
    const api = createApi(() => "tok", async () => new Response(null, { status: 204 }));
    await expect(api.logout()).resolves.toBeUndefined();
  });
});
