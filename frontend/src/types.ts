// Shapes of the OpBX REST API and realtime payloads the dashboard consumes.

export interface User {
  id: number | string;
  name: string;
  email: string;
  role: string;
  organization_id: number | string;
}

export interface Organization {
  id: number | string;
  name: string;
}

export interface LoginResponse {
  token: string;
  token_type: string;
  expires_at: string | null;
  user: User;
  organization: Organization;
}

export interface MeResponse {
  user: User;
  organization: Organization;
}

export interface RealtimeConfig {
  key: string;
  ws_host: string | null;
  ws_port: number;
  force_tls: boolean;
  auth_endpoint: string;
  user_auth_endpoint?: string | null;
}

/** Our call states (docs/call-states.md): three active, four final. */
export type CallStatus = "initiated" | "ringing" | "answered" | "completed" | "busy" | "no_answer" | "failed";
export type ActiveCallStatus = "initiated" | "ringing" | "answered";
export type EndedCallStatus = "completed" | "busy" | "no_answer" | "failed";
export type CallDirection = "inbound" | "outbound";

export interface AnsweredBy {
  id: number | string;
  name: string;
  extension_number: string | null;
}

export interface CallLog {
  id: number | string;
  call_id: string;
  direction: string | null;
  from_number: string | null;
  to_number: string | null;
  did_id: number | string | null;
  did: { id: number | string; phone_number: string } | null;
  extension_id: number | string | null;
  extension: { id: number | string; number: string } | null;
  answered_by: AnsweredBy | null;
  status: CallStatus;
  initiated_at: string | null;
  /** When the provider reported it ringing; null if it never did (or before). */
  ringing_at?: string | null;
  answered_at: string | null;
  ended_at: string | null;
  duration: number | null;
  recording_url: string | null;
}

export interface ActiveCallsResponse {
  data: CallLog[];
  server_time: string;
  /**
   * The organization's latest event this snapshot reflects (read before the calls): only
   * events with a higher `seq` are news. Absent from servers older than the sequence.
   */
  seq?: number;
}

export interface PageMeta {
  page: number;
  per_page: number;
  total: number;
  last_page: number;
}

export interface CallLogsResponse {
  data: CallLog[];
  meta?: PageMeta;
}

/** GET /call-logs: the REST API's own filter names, as kept in the history page's URL. */
export interface CallFilters {
  status?: CallStatus;
  direction?: CallDirection;
  /** YYYY-MM-DD (UTC), inclusive. */
  from?: string;
  /** YYYY-MM-DD (UTC), inclusive. */
  to?: string;
  /** Part of the caller's or the dialled number. */
  search?: string;
  extension_id?: number;
  page?: number;
  per_page?: number;
}

/** One step of a call's life: each state it entered, with when. */
export interface TimelineEntry {
  status: CallStatus;
  at: string;
}

export interface ProviderRecord {
  kind: string;
  received_at: string;
  body: Record<string, unknown>;
}

/** GET /call-logs/{call_id}. */
export interface CallDetail extends CallLog {
  timeline: TimelineEntry[];
  provider_records: ProviderRecord[];
}

export interface Statistics {
  date: string;
  total: number;
  active: number;
  answered: number;
  missed: number;
  average_duration: number | null;
  longest_wait: number | null;
  /** Today's 24 UTC hours, 0 to 23, each with its calls begun then. */
  per_hour?: HourFigures[];
  /** Today's answered calls by seconds from arrival to answer; the last bucket's `le` is null (longer). */
  time_to_answer?: AnswerTimeBucket[];
}

export interface HourFigures {
  /** 0-23, UTC. */
  hour: number;
  total: number;
  answered: number;
  missed: number;
}

export interface AnswerTimeBucket {
  /** Upper bound in seconds (inclusive); null: longer than the previous bucket. */
  le: number | null;
  count: number;
}

export interface StatisticsResponse {
  data: Statistics;
  server_time: string;
}

export interface Member {
  id: number | string;
  name: string;
  email?: string;
  role?: string;
}

export interface CallInitiatedPayload {
  event_id?: string;
  /** The organization's event sequence number: 1, 2, 3… in commit order. */
  seq?: number;
  call_id: string;
  from_number?: string | null;
  to_number?: string | null;
  did_id?: number | string | null;
  /** "initiated" (the page never downgrades a call further along). */
  status?: ActiveCallStatus;
  initiated_at?: string | null;
}

export interface CallAnsweredPayload {
  event_id?: string;
  /** The organization's event sequence number: 1, 2, 3… in commit order. */
  seq?: number;
  call_id: string;
  status?: "answered";
  answered_at?: string | null;
  extension_id?: number | string | null;
  answered_by?: AnsweredBy | null;
}

export interface CallEndedPayload {
  event_id?: string;
  /** The organization's event sequence number: 1, 2, 3… in commit order. */
  seq?: number;
  call_id: string;
  status?: EndedCallStatus;
  ended_at?: string | null;
  duration?: number | null;
}

/** Ringing, on presence-org.{id} and (when routed to one) private-extension.{id}. */
export interface CallRingingPayload {
  event_id?: string;
  /** The organization's event sequence number: 1, 2, 3… in commit order. */
  seq?: number;
  call_id: string;
  status?: "ringing";
  ringing_at?: string | null;
  extension_id?: number | string | null;
}

export type CallEvent =
  | { name: "call.initiated"; payload: CallInitiatedPayload }
  | { name: "call.ringing"; payload: CallRingingPayload }
  | { name: "call.answered"; payload: CallAnsweredPayload }
  | { name: "call.ended"; payload: CallEndedPayload };

export type CallEventName = CallEvent["name"];

/**
 * `sync` on the organization's channel, every `interval` seconds: `seq` is the organization's
 * latest committed event. A page that has applied less is behind.
 */
export interface SyncPayload {
  seq: number;
  /** Seconds until the next `sync` (10). */
  interval?: number;
  server_time?: string;
}

// ---------- the extensions board: GET /extensions/status ----------

export type ExtensionState = "offline" | "available" | "ringing" | "on-call";

/** The call that makes an extension ringing or on a call. */
export interface ExtensionCall {
  call_id: string;
  status: ActiveCallStatus;
  direction: string;
  from_number: string;
  to_number: string;
  /** When the extension entered its state: ringing_at (or initiated_at), or answered_at. */
  since: string;
}

export interface ExtensionStatus {
  id: number;
  number: string;
  user: { id: number; name: string } | null;
  state: ExtensionState;
  /** Whether its user is signed in anywhere (on the organization's presence channel); null: unknown. */
  online: boolean | null;
  call: ExtensionCall | null;
}

export interface ExtensionStatusResponse {
  /** By number. */
  data: ExtensionStatus[];
  server_time: string;
  seq: number;
}

// ---------- directory (admin settings): /organization, /users, /extensions, /dids ----------

export type Role = "admin" | "supervisor" | "agent";

/** The Cloudonix webhooks an organization receives. */
export type WebhookKind = "call-initiated" | "call-status" | "cdr";

export interface OrganizationSettings {
  id: number;
  name: string;
  created_at: string;
  /** Paths relative to the API's origin, e.g. `/webhooks/cloudonix/cdr?org=1`. */
  webhook_paths: Partial<Record<WebhookKind, string>> & Record<string, string>;
}

export interface OrganizationWithSecret extends OrganizationSettings {
  /** Shown only in the answer to a rotation. */
  webhook_secret: string;
}

export interface DirectoryUser {
  id: number;
  email: string;
  name: string;
  role: Role;
  organization_id: number;
  disabled: boolean;
  created_at: string;
}

export interface NewUser {
  email: string;
  name: string;
  role: Role;
  password: string;
}

/** Fields left out stay as they are. */
export interface UserChange {
  name?: string;
  email?: string;
  role?: Role;
  password?: string;
  current_password?: string;
}

export interface Extension {
  id: number;
  number: string;
  organization_id: number;
  user_id: number | null;
}

export interface NewExtension {
  number: string;
  user_id?: number | null;
}

/** Fields left out stay as they are; `user_id: null` unassigns. */
export interface ExtensionChange {
  number?: string;
  user_id?: number | null;
}

export interface Did {
  id: number;
  phone_number: string;
  organization_id: number;
  extension_id: number | null;
}

export interface NewDid {
  phone_number: string;
  extension_id?: number | null;
}

/** Fields left out stay as they are; `extension_id: null` routes to no extension. */
export interface DidChange {
  phone_number?: string;
  extension_id?: number | null;
}

/** `{data: …}`: how the directory endpoints wrap records and lists. */
export interface DataEnvelope<T> {
  data: T;
}
