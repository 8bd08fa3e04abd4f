import { describe, expect, it } from "vitest";
import {
  elapsedLabel,
  extensionLabel,
  filtersFromForm,
  filtersFromQuery,
  formatMoment,
  formFromFilters,
  hasFilters,
  historyPath,
  isDay,
  newCallIds,
  pageInfo,
  pageSummary,
  queryFromFilters,
  recordBody,
  timelineOf,
  withPage,
} from "./history";
import type { CallLog } from "./types";

function call(overrides: Partial<CallLog> = {}): CallLog {
  return {
    id: 1,
    call_id: "c-1",
    direction: "inbound",
    from_number: "+15550001111",
    to_number: "+442071234567",
    did_id: 3,
    did: { id: 3, phone_number: "+442071234567" },
    extension_id: 7,
    extension: { id: 7, number: "101" },
    answered_by: null,
    status: "completed",
    initiated_at: "2026-11-26T10:00:00.000Z",
    ringing_at: null,
    answered_at: null,
    ended_at: null,
    duration: null,
    recording_url: null,
    ...overrides,
  };
}

describe("filters from the URL", () => {
  it("reads every filter under the REST API's own names", () => {
    expect(
      filtersFromQuery(
        "?status=completed&direction=inbound&from=2026-11-01&to=2026-11-26&search=555&extension_id=7&page=3&per_page=50",
      ),
    ).toEqual({
      status: "completed",
      direction: "inbound",
      from: "2026-11-01",
      to: "2026-11-26",
      search: "555",
      extension_id: 7,
      page: 3,
      per_page: 50,
    });
    expect(filtersFromQuery("")).toEqual({});
    expect(filtersFromQuery(new URLSearchParams("status=no_answer"))).toEqual({ status: "no_answer" });
  });

  it("drops what the API would refuse instead of failing the page", () => {
    expect(
      filtersFromQuery(
        "?status=cancelled&direction=sideways&from=2026-02-30&to=yesterday&search=%20%20&extension_id=7a&page=0&per_page=101",
      ),
    ).toEqual({});
    expect(filtersFromQuery("?extension_id=-1&page=1.5&per_page=0")).toEqual({});
    expect(filtersFromQuery(`?extension_id=${2 ** 31}&page=1000001`)).toEqual({});
    expect(filtersFromQuery(`?search=${"5".repeat(65)}`)).toEqual({});
    expect(filtersFromQuery("?search=55%0A5")).toEqual({});
    expect(filtersFromQuery("?from=1969-12-31&to=3000-01-01")).toEqual({});
  });

  it("treats page 1 as no page and trims the search", () => {
    expect(filtersFromQuery("?page=1&search=%20555%20")).toEqual({ search: "555" });
  });

  it("knows a day of the calendar", () => {
    expect(isDay("2028-02-29")).toBe(true);
    expect(isDay("2026-02-29")).toBe(false);
    expect(isDay("2026-13-01")).toBe(false);
    expect(isDay("2026-1-01")).toBe(false);
  });
});

describe("filters to the URL", () => {
  it("writes the set filters in one order, page 1 left out", () => {
    expect(queryFromFilters({ search: "555", direction: "inbound", status: "completed" })).toBe(
      "?status=completed&direction=inbound&search=555",
    );
    expect(historyPath({ search: "555", direction: "inbound", status: "completed" })).toBe(
      "/history?status=completed&direction=inbound&search=555",
    );
    expect(historyPath({ page: 1 })).toBe("/history");
    expect(historyPath({})).toBe("/history");
    expect(historyPath({ extension_id: 7, page: 2, search: "+44" })).toBe("/history?search=%2B44&extension_id=7&page=2");
  });

  it("round-trips: a shared link opens with the same filters", () => {
    const filters = filtersFromQuery("?to=2026-11-26&status=busy&extension_id=12&search=%2B1555&page=4&from=2026-11-01");
    expect(filtersFromQuery(queryFromFilters(filters))).toEqual(filters);
    expect(queryFromFilters(filtersFromQuery(queryFromFilters(filters)))).toBe(queryFromFilters(filters));
  });

  it("moves between pages keeping the filters", () => {
    expect(historyPath(withPage({ status: "failed", page: 3 }, 4))).toBe("/history?status=failed&page=4");
    expect(historyPath(withPage({ status: "failed", page: 3 }, 1))).toBe("/history?status=failed");
  });
});

describe("the filter form", () => {
  it("shows the URL's filters and gives back filters on page 1", () => {
    const form = formFromFilters({ status: "answered", extension_id: 7, page: 3 });
    expect(form).toEqual({ status: "answered", direction: "", from: "", to: "", search: "", extension_id: "7" });
    expect(filtersFromForm({ ...form, search: " 555 " }, { page: 3, per_page: 50 })).toEqual({
      filters: { status: "answered", search: "555", extension_id: 7, per_page: 50 },
      problem: null,
    });
  });

  it("says what is wrong rather than asking the API", () => {
    const empty = formFromFilters({});
    expect(filtersFromForm({ ...empty, from: "2026-11-26", to: "2026-11-01" }).problem).toMatch(/after/);
    expect(filtersFromForm({ ...empty, search: "9".repeat(65) }).problem).toMatch(/64/);
    expect(filtersFromForm({ ...empty, from: "2026-02-31" }).problem).toMatch(/not a day/);
    expect(filtersFromForm({ ...empty, from: "2026-11-26", to: "2026-11-26" }).filters).toEqual({
      from: "2026-11-26",
      to: "2026-11-26",
    });
  });

  it("tells filters from paging", () => {
    expect(hasFilters({ page: 2, per_page: 10 })).toBe(false);
    expect(hasFilters({ search: "   " })).toBe(false);
    expect(hasFilters({ direction: "outbound" })).toBe(true);
  });
});

describe("pages", () => {
  it("reads the server's page meta", () => {
    const info = pageInfo({ data: [], meta: { page: 2, per_page: 25, total: 112, last_page: 5 } }, { page: 2 });
    expect(info).toEqual({ page: 2, lastPage: 5, total: 112, hasPrevious: true, hasNext: true });
    expect(pageSummary(info)).toBe("Page 2 of 5, 112 calls");
    const only = pageInfo({ data: [call()], meta: { page: 1, per_page: 25, total: 1, last_page: 1 } }, {});
    expect(pageSummary(only)).toBe("Page 1 of 1, 1 call");
    expect(only.hasNext || only.hasPrevious).toBe(false);
    expect(pageSummary(pageInfo({ data: [], meta: { page: 1, per_page: 25, total: 1234, last_page: 50 } }, {}))).toBe(
      "Page 1 of 50, 1,234 calls",
    );
  });

  it("guesses from a full page when the server sends no meta", () => {
    const full = pageInfo({ data: [call(), call({ call_id: "c-2" })] }, { page: 3, per_page: 2 });
    expect(full).toEqual({ page: 3, lastPage: null, total: null, hasPrevious: true, hasNext: true });
    expect(pageSummary(full)).toBe("Page 3");
    expect(pageInfo({ data: [call()] }, {}).hasNext).toBe(false);
  });

  it("finds the calls a refresh brought", () => {
    const before = [call({ call_id: "a" }), call({ call_id: "b" })];
    const after = [call({ call_id: "c" }), call({ call_id: "a" }), call({ call_id: "b" })];
    expect(newCallIds(before, after)).toEqual(["c"]);
    expect(newCallIds(after, before)).toEqual([]);
  });
});

describe("a call's detail", () => {
  it("uses the server's timeline", () => {
    const timeline = [
      { status: "initiated" as const, at: "2026-11-26T10:00:00.000Z" },
      { status: "no_answer" as const, at: "2026-11-26T10:00:30.000Z" },
    ];
    expect(timelineOf({ ...call(), timeline })).toBe(timeline);
  });

  it("tells the timeline from the call's times when the server sends none", () => {
    const answered = call({
      status: "completed",
      ringing_at: "2026-11-26T10:00:01.000Z",
      answered_at: "2026-11-26T10:00:06.000Z",
      ended_at: "2026-11-26T10:02:06.000Z",
    });
    expect(timelineOf(answered).map((entry) => entry.status)).toEqual(["initiated", "ringing", "answered", "completed"]);
    expect(timelineOf(answered)[3]?.at).toBe("2026-11-26T10:02:06.000Z");
    const ringing = call({ status: "ringing", ringing_at: "2026-11-26T10:00:01.000Z" });
    expect(timelineOf(ringing).map((entry) => entry.status)).toEqual(["initiated", "ringing"]);
    const busy = call({ status: "busy", ended_at: "2026-11-26T10:00:02.000Z" });
    expect(timelineOf(busy)).toEqual([
      { status: "initiated", at: "2026-11-26T10:00:00.000Z" },
      { status: "busy", at: "2026-11-26T10:00:02.000Z" },
    ]);
  });

  it("says how long after the start each step came", () => {
    expect(elapsedLabel("2026-11-26T10:00:00.000Z", "2026-11-26T10:00:00.000Z")).toBe("+0:00");
    expect(elapsedLabel("2026-11-26T10:00:00.000Z", "2026-11-26T10:01:07.400Z")).toBe("+1:07");
    expect(elapsedLabel("2026-11-26T10:00:00.000Z", "2026-11-26T11:00:05.000Z")).toBe("+1:00:05");
    expect(elapsedLabel(null, "2026-11-26T10:00:00.000Z")).toBe("");
    expect(elapsedLabel("2026-11-26T10:00:00.000Z", "soon")).toBe("");
  });

  it("shows a provider record's body as indented JSON", () => {
    expect(recordBody({ CallSid: "x", Status: "ringing" })).toBe('{\n  "CallSid": "x",\n  "Status": "ringing"\n}');
    expect(recordBody(undefined)).toBe("undefined");
  });
});

describe("labels", () => {
  it("writes a moment in the reader's time zone", () => {
    expect(formatMoment("2026-11-26T23:30:00.000Z", "en-GB", "UTC")).toBe("26 Nov 2026, 23:30:00");
    expect(formatMoment("2026-11-26T23:30:00.000Z", "en-GB", "Asia/Tokyo")).toBe("27 Nov 2026, 08:30:00");
    expect(formatMoment(null)).toBe("—");
    expect(formatMoment("never")).toBe("—");
  });

  it("names an extension by number and user", () => {
    expect(extensionLabel({ number: "101", user: { id: 1, name: "Ada" } })).toBe("101 · Ada");
    expect(extensionLabel({ number: "102", user: null })).toBe("102");
  });
});
