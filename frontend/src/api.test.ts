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

describe("directory api", () => {
  function recording(answer: unknown) {
    const calls: Call[] = [];
    const api = createApi(() => "tok", fakeFetch(200, answer, calls));
    const sent = () =>
      calls.map((c) => {
        const body = c.init!.body;
        return [c.init!.method, c.url, body === undefined ? undefined : JSON.parse(String(body))];
      });
    return { api, sent };
  }

  it("unwraps {data} and sends the right requests", async () => {
    const { api, sent } = recording({ data: { id: 5 } });
    expect(await api.organization()).toEqual({ id: 5 });
    await api.rotateWebhookSecret();
    await api.listUsers();
    await api.createUser({ email: "d@x.y", name: "D", role: "agent", password: "long-enough-pw" });
    await api.updateUser(5, { role: "supervisor" });
    await api.disableUser(5);
    await api.enableUser(5);
    await api.listExtensions();
    await api.createExtension({ number: "110", user_id: null });
    await api.updateExtension(3, { user_id: 5 });
    await api.deleteExtension(3);
    await api.listDids();
    await api.createDid({ phone_number: "+15550100400", extension_id: 3 });
    await api.updateDid(9, { extension_id: null });
    await api.deleteDid(9);
    expect(sent()).toEqual([
      ["GET", "/api/v1/organization", undefined],
      ["POST", "/api/v1/organization/webhook-secret", undefined],
      ["GET", "/api/v1/users", undefined],
      ["POST", "/api/v1/users", { email: "d@x.y", name: "D", role: "agent", password: "long-enough-pw" }],
      ["PATCH", "/api/v1/users/5", { role: "supervisor" }],
      ["POST", "/api/v1/users/5/disable", undefined],
      ["POST", "/api/v1/users/5/enable", undefined],
      ["GET", "/api/v1/extensions", undefined],
      ["POST", "/api/v1/extensions", { number: "110", user_id: null }],
      ["PATCH", "/api/v1/extensions/3", { user_id: 5 }],
      ["DELETE", "/api/v1/extensions/3", undefined],
      ["GET", "/api/v1/dids", undefined],
      ["POST", "/api/v1/dids", { phone_number: "+15550100400", extension_id: 3 }],
      ["PATCH", "/api/v1/dids/9", { extension_id: null }],
      ["DELETE", "/api/v1/dids/9", undefined],
    ]);
  });

  it("turns a refusal into an ApiError with the API's message", async () => {
    const message = "user 1 is the organization's last active admin; make another user admin first";
    const api = createApi(() => "tok", fakeFetch(409, { error: message, status: 409 }));
    await expect(api.updateUser(1, { role: "agent" })).rejects.toMatchObject({ status: 409, message });
  });
});
