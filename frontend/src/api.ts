// The REST client (same origin, /api/v1).

import type {
  ActiveCallsResponse,
  CallLogsResponse,
  LoginResponse,
  MeResponse,
  RealtimeConfig,
  StatisticsResponse,
} from "./types";

export const API_PREFIX = "/api/v1";

export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;

  constructor(status: number, message: string, body: unknown = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

export function isUnauthorized(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401;
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiClient {
  login(email: string, password: string): Promise<LoginResponse>;
  logout(): Promise<void>;
  me(): Promise<MeResponse>;
  realtimeConfig(): Promise<RealtimeConfig>;
  activeCalls(): Promise<ActiveCallsResponse>;
  recentCalls(perPage?: number): Promise<CallLogsResponse>;
  statistics(): Promise<StatisticsResponse>;
}

function errorMessage(body: unknown, status: number): string {
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    if (typeof b.error === "string") return b.error;
    if (typeof b.message === "string") return b.message;
  }
  return `Request failed (HTTP ${status})`;
}

export function createApi(
  getToken: () => string | null,
  fetchImpl: FetchLike = (input, init) => globalThis.fetch(input, init),
): ApiClient {
  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    const token = getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetchImpl(`${API_PREFIX}${path}`, init);
    } catch (err) {
      throw new ApiError(0, err instanceof Error ? err.message : "Network error");
    }
    const text = await response.text();
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!response.ok) {
      throw new ApiError(response.status, errorMessage(parsed, response.status), parsed);
    }
    return parsed as T;
  }

  return {
    login: (email, password) => request<LoginResponse>("POST", "/auth/login", { email, password }),
    logout: async () => {
      await request<unknown>("POST", "/auth/logout");
    },
    me: () => request<MeResponse>("GET", "/auth/me"),
    realtimeConfig: () => request<RealtimeConfig>("GET", "/realtime/config"),
    activeCalls: () => request<ActiveCallsResponse>("GET", "/call-logs/active"),
    recentCalls: (perPage = 10) =>
      request<CallLogsResponse>("GET", `/call-logs?per_page=${encodeURIComponent(perPage)}`),
    statistics: () => request<StatisticsResponse>("GET", "/call-logs/statistics"),
  };
}
