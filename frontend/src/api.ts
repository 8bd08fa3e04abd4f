// The REST client (same origin, /api/v1).

import type {
  ActiveCallsResponse,
  CallDetail,
  CallFilters,
  CallLogsResponse,
  DataEnvelope,
  Did,
  DidChange,
  DirectoryUser,
  Extension,
  ExtensionStatusResponse,
  ExtensionChange,
  LoginResponse,
  MeResponse,
  NewDid,
  NewExtension,
  NewUser,
  OrganizationSettings,
  OrganizationWithSecret,
  RealtimeConfig,
  StatisticsResponse,
  UserChange,
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

/** What the live page (sign-in, calls, realtime) needs. */
export interface LiveApi {
  login(email: string, password: string): Promise<LoginResponse>;
  logout(): Promise<void>;
  me(): Promise<MeResponse>;
  realtimeConfig(): Promise<RealtimeConfig>;
  activeCalls(): Promise<ActiveCallsResponse>;
  recentCalls(perPage?: number): Promise<CallLogsResponse>;
  statistics(): Promise<StatisticsResponse>;
  /** The extensions board's snapshot (on load, on resync, while polling). */
  extensionStatus(): Promise<ExtensionStatusResponse>;
  /** The call history: filtered and paginated, newest first. */
  callLogs(filters: CallFilters): Promise<CallLogsResponse>;
  /** One call with its timeline and provider records. */
  callDetail(callId: string): Promise<CallDetail>;
}

/** `?status=…&page=…` from the filters that are set, in the REST API's own names. */
export function filtersQuery(filters: CallFilters): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const query = params.toString();
  return query ? `?${query}` : "";
}

/**
 * The caller's organization and its directory (Settings). Records come unwrapped from the
 * API's `{data: …}`; everyone reads, admins write (others get 403).
 */
export interface DirectoryApi {
  organization(): Promise<OrganizationSettings>;
  /** The new secret: the only time it is shown. */
  rotateWebhookSecret(): Promise<OrganizationWithSecret>;
  listUsers(): Promise<DirectoryUser[]>;
  createUser(user: NewUser): Promise<DirectoryUser>;
  updateUser(id: number, change: UserChange): Promise<DirectoryUser>;
  disableUser(id: number): Promise<DirectoryUser>;
  enableUser(id: number): Promise<DirectoryUser>;
  listExtensions(): Promise<Extension[]>;
  createExtension(extension: NewExtension): Promise<Extension>;
  updateExtension(id: number, change: ExtensionChange): Promise<Extension>;
  deleteExtension(id: number): Promise<Extension>;
  listDids(): Promise<Did[]>;
  createDid(did: NewDid): Promise<Did>;
  updateDid(id: number, change: DidChange): Promise<Did>;
  deleteDid(id: number): Promise<Did>;
}

export interface ApiClient extends LiveApi, DirectoryApi {}

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

  async function data<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await request<DataEnvelope<T>>(method, path, body)).data;
  }

  const id = (value: number) => encodeURIComponent(String(value));

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
    extensionStatus: () => request<ExtensionStatusResponse>("GET", "/extensions/status"),
    callLogs: (filters) => request<CallLogsResponse>("GET", `/call-logs${filtersQuery(filters)}`),
    callDetail: (callId) => data<CallDetail>("GET", `/call-logs/${encodeURIComponent(callId)}`),

    organization: () => data<OrganizationSettings>("GET", "/organization"),
    rotateWebhookSecret: () => data<OrganizationWithSecret>("POST", "/organization/webhook-secret"),
    listUsers: () => data<DirectoryUser[]>("GET", "/users"),
    createUser: (user) => data<DirectoryUser>("POST", "/users", user),
    updateUser: (userId, change) => data<DirectoryUser>("PATCH", `/users/${id(userId)}`, change),
    disableUser: (userId) => data<DirectoryUser>("POST", `/users/${id(userId)}/disable`),
    enableUser: (userId) => data<DirectoryUser>("POST", `/users/${id(userId)}/enable`),
    listExtensions: () => data<Extension[]>("GET", "/extensions"),
    createExtension: (extension) => data<Extension>("POST", "/extensions", extension),
    updateExtension: (extensionId, change) => data<Extension>("PATCH", `/extensions/${id(extensionId)}`, change),
    deleteExtension: (extensionId) => data<Extension>("DELETE", `/extensions/${id(extensionId)}`),
    listDids: () => data<Did[]>("GET", "/dids"),
    createDid: (did) => data<Did>("POST", "/dids", did),
    updateDid: (didId, change) => data<Did>("PATCH", `/dids/${id(didId)}`, change),
    deleteDid: (didId) => data<Did>("DELETE", `/dids/${id(didId)}`),
  };
}
