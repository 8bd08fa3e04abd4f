// The call history page's pure parts: filters to and from the URL (the REST API's own names),
// the filter form, pages, a call's timeline and the labels the page shows.

import { filtersQuery } from "./api";
import { ACTIVE_STATUSES, ENDED_STATUSES, isActiveStatus, isEndedStatus } from "./calls";
import { formatDuration } from "./format";
import { pathForPage } from "./routes";
import type {
  CallDetail,
  CallDirection,
  CallFilters,
  CallLog,
  CallLogsResponse,
  CallStatus,
  ExtensionStatus,
  TimelineEntry,
} from "./types";

export const HISTORY_PATH = pathForPage("history");

/** Our seven call states, in the order a call goes through them (docs/call-states.md). */
export const CALL_STATUSES: readonly CallStatus[] = [...ACTIVE_STATUSES, ...ENDED_STATUSES];

export const CALL_DIRECTIONS: readonly CallDirection[] = ["inbound", "outbound"];

/** The API's bounds: longer searches, larger ids, pages or page sizes are refused (422). */
export const MAX_SEARCH = 64;
export const MAX_ID = 2 ** 31 - 1;
export const MAX_PAGE = 1_000_000;
export const MAX_PER_PAGE = 100;
/** The API's page size when none is asked for. */
export const DEFAULT_PER_PAGE = 25;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const WHOLE = /^[1-9]\d{0,9}$/;
/** Printable: no control, format or unassigned characters, no separators but the plain space. */
const PRINTABLE = /^(?:[^\p{C}\p{Z}]| )+$/u;

export function isCallStatus(value: string): value is CallStatus {
  return isActiveStatus(value) || isEndedStatus(value);
}

export function isCallDirection(value: string): value is CallDirection {
  return (CALL_DIRECTIONS as readonly string[]).includes(value);
}

/** `YYYY-MM-DD`, a day of the calendar from 1970 to 2999 (the API's range). */
export function isDay(value: string): boolean {
  const match = DAY.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1970 || year > 2999) return false;
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function whole(value: string | null, max: number): number | undefined {
  if (value === null || !WHOLE.test(value)) return undefined;
  const n = Number(value);
  return n <= max ? n : undefined;
}

/** A number search as the API takes it: trimmed, printable, at most MAX_SEARCH characters. */
export function cleanSearch(value: string | null | undefined): string | undefined {
  const text = (value ?? "").trim();
  if (!text || text.length > MAX_SEARCH || !PRINTABLE.test(text)) return undefined;
  return text;
}

/**
 * The filters in a URL query (`?status=completed&page=2` or its URLSearchParams). Values the API
 * would refuse (an unknown status, a day that is not one, an id that is not a number…) are left
 * out rather than failing the page; page 1 is the same as no page.
 */
export function filtersFromQuery(query: string | URLSearchParams): CallFilters {
  const params = typeof query === "string" ? new URLSearchParams(query) : query;
  const filters: CallFilters = {};
  const status = params.get("status");
  if (status !== null && isCallStatus(status)) filters.status = status;
  const direction = params.get("direction");
  if (direction !== null && isCallDirection(direction)) filters.direction = direction;
  const from = params.get("from");
  if (from !== null && isDay(from)) filters.from = from;
  const to = params.get("to");
  if (to !== null && isDay(to)) filters.to = to;
  const search = cleanSearch(params.get("search"));
  if (search !== undefined) filters.search = search;
  const extension = whole(params.get("extension_id"), MAX_ID);
  if (extension !== undefined) filters.extension_id = extension;
  const page = whole(params.get("page"), MAX_PAGE);
  if (page !== undefined && page > 1) filters.page = page;
  const perPage = whole(params.get("per_page"), MAX_PER_PAGE);
  if (perPage !== undefined) filters.per_page = perPage;
  return filters;
}

/** The same filters, set ones only, in one fixed order: equal filters give equal queries. */
export function canonicalFilters(filters: CallFilters): CallFilters {
  const out: CallFilters = {};
  if (filters.status) out.status = filters.status;
  if (filters.direction) out.direction = filters.direction;
  if (filters.from) out.from = filters.from;
  if (filters.to) out.to = filters.to;
  const search = cleanSearch(filters.search);
  if (search !== undefined) out.search = search;
  if (filters.extension_id !== undefined && filters.extension_id !== null) out.extension_id = filters.extension_id;
  if (filters.page !== undefined && filters.page > 1) out.page = filters.page;
  if (filters.per_page !== undefined) out.per_page = filters.per_page;
  return out;
}

/** `?status=completed&direction=inbound&search=555` ("" without filters; page 1 left out). */
export function queryFromFilters(filters: CallFilters): string {
  return filtersQuery(canonicalFilters(filters));
}

/** The history page's URL for `filters`: what the page pushes, and what a shared link holds. */
export function historyPath(filters: CallFilters): string {
  return `${HISTORY_PATH}${queryFromFilters(filters)}`;
}

/** The filters of another page of the same results. */
export function withPage(filters: CallFilters, page: number): CallFilters {
  return canonicalFilters({ ...filters, page });
}

// ---------- the filter form ----------

/** The form's fields, as its inputs hold them ("" for not set). */
export interface FilterForm {
  status: string;
  direction: string;
  from: string;
  to: string;
  search: string;
  extension_id: string;
}

export function formFromFilters(filters: CallFilters): FilterForm {
  return {
    status: filters.status ?? "",
    direction: filters.direction ?? "",
    from: filters.from ?? "",
    to: filters.to ?? "",
    search: filters.search ?? "",
    extension_id: filters.extension_id !== undefined ? String(filters.extension_id) : "",
  };
}

export type FormOutcome = { filters: CallFilters; problem: null } | { filters: null; problem: string };

/**
 * The filters the form asks for, back on page 1 and keeping the page size of `current`; or what
 * is wrong with the form.
 */
export function filtersFromForm(form: FilterForm, current: CallFilters = {}): FormOutcome {
  const search = form.search.trim();
  if (search && cleanSearch(search) === undefined) {
    return { filters: null, problem: `Search for at most ${MAX_SEARCH} printable characters.` };
  }
  if (form.from && !isDay(form.from)) return { filters: null, problem: "The “from” date is not a day." };
  if (form.to && !isDay(form.to)) return { filters: null, problem: "The “to” date is not a day." };
  if (form.from && form.to && form.from > form.to) {
    return { filters: null, problem: "The “from” date is after the “to” date." };
  }
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries({ ...form, search })) if (value) query.set(name, value);
  if (current.per_page !== undefined) query.set("per_page", String(current.per_page));
  return { filters: filtersFromQuery(query), problem: null };
}

/** Whether any filter (paging aside) is set. */
export function hasFilters(filters: CallFilters): boolean {
  return Object.keys(canonicalFilters(filters)).some((name) => name !== "page" && name !== "per_page");
}

// ---------- pages ----------

export interface PageInfo {
  page: number;
  /** null: unknown (a server that sends no `meta`). */
  lastPage: number | null;
  total: number | null;
  hasPrevious: boolean;
  hasNext: boolean;
}

/** Where `response` stands among the pages of the results for `filters`. */
export function pageInfo(response: CallLogsResponse, filters: CallFilters): PageInfo {
  const meta = response.meta;
  if (meta) {
    return {
      page: meta.page,
      lastPage: meta.last_page,
      total: meta.total,
      hasPrevious: meta.page > 1,
      hasNext: meta.page < meta.last_page,
    };
  }
  const page = filters.page ?? 1;
  const perPage = filters.per_page ?? DEFAULT_PER_PAGE;
  return { page, lastPage: null, total: null, hasPrevious: page > 1, hasNext: response.data.length >= perPage };
}

function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}

/** "Page 2 of 5, 112 calls" (or "Page 2" when the server does not say). */
export function pageSummary(info: PageInfo): string {
  if (info.lastPage === null || info.total === null) return `Page ${info.page}`;
  return `Page ${info.page} of ${info.lastPage}, ${plural(info.total, "call", "calls")}`;
}

/** Call ids of `next` that `previous` (the same query's last answer) did not show: new calls. */
export function newCallIds(previous: readonly CallLog[], next: readonly CallLog[]): string[] {
  const known = new Set(previous.map((call) => call.call_id));
  return next.filter((call) => !known.has(call.call_id)).map((call) => call.call_id);
}

// ---------- a call's detail ----------

/**
 * Each state the call entered, in order: the server's timeline, or (from a server that sends none)
 * the one its times tell — initiated, ringing, answered, then its final state when it ended.
 */
export function timelineOf(call: CallLog & Partial<Pick<CallDetail, "timeline">>): TimelineEntry[] {
  if (Array.isArray(call.timeline)) return call.timeline;
  const entries: TimelineEntry[] = [];
  if (call.initiated_at) entries.push({ status: "initiated", at: call.initiated_at });
  if (call.ringing_at) entries.push({ status: "ringing", at: call.ringing_at });
  if (call.answered_at) entries.push({ status: "answered", at: call.answered_at });
  if (call.ended_at && !isActiveStatus(call.status)) {
    entries.push({ status: call.status, at: call.ended_at });
  }
  return entries;
}

/** "+0:07": how long after `start` the moment `at` came ("" when either is missing). */
export function elapsedLabel(start: string | null | undefined, at: string): string {
  if (!start) return "";
  const from = Date.parse(start);
  const to = Date.parse(at);
  if (Number.isNaN(from) || Number.isNaN(to)) return "";
  return `+${formatDuration(Math.round((to - from) / 1000))}`;
}

/** The provider record's body as the page shows it: indented JSON. */
export function recordBody(body: unknown): string {
  try {
    return JSON.stringify(body, null, 2) ?? String(body);
  } catch {
    return String(body);
  }
}

// ---------- labels ----------

/** A moment in the reader's local time: "26 Nov 2026, 14:05:09" ("—" when missing or invalid). */
export function formatMoment(iso: string | null | undefined, locale?: string, timeZone?: string): string {
  if (!iso) return "—";
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return "—";
  return t.toLocaleString(locale, { dateStyle: "medium", timeStyle: "medium", timeZone });
}

export function directionLabel(direction: string | null): string {
  if (direction === "inbound") return "Inbound";
  if (direction === "outbound") return "Outbound";
  return direction ?? "—";
}

/** "101 · Ada Lovelace", or "101" for an extension nobody has. */
export function extensionLabel(extension: Pick<ExtensionStatus, "number" | "user">): string {
  return extension.user ? `${extension.number} · ${extension.user.name}` : extension.number;
}
