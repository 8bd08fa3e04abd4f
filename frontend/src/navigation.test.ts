import { describe, expect, it } from "vitest";
import { createRouter, type HistoryWindow } from "./navigation";

/** A window whose location follows pushState and `back(url)` the way a browser's does. */
function fakeWindow(url = "/") {
  const listeners = new Set<() => void>();
  const pushed: string[] = [];
  const setLocation = (to: string) => {
    const parsed = new URL(to, "http://dashboard.test");
    win.location.pathname = parsed.pathname;
    win.location.search = parsed.search;
    win.location.hash = parsed.hash;
  };
  const win: HistoryWindow & { back(to: string): void; pushed: string[]; listeners: Set<() => void> } = {
    location: { pathname: "/", search: "", hash: "" },
    history: {
      pushState(_data, _unused, to) {
        pushed.push(String(to));
        setLocation(String(to));
      },
    },
    addEventListener: (_type, listener) => listeners.add(listener),
    removeEventListener: (_type, listener) => listeners.delete(listener),
    back(to: string) {
      setLocation(to);
      for (const listener of listeners) listener();
    },
    pushed,
    listeners,
  };
  setLocation(url);
  return win;
}

describe("navigation", () => {
  it("pushes a new path and tells subscribers", () => {
    const win = fakeWindow();
    const router = createRouter(win);
    const seen: string[] = [];
    const stop = router.subscribe(() => seen.push(router.path()));
    router.navigate("/settings");
    expect(win.pushed).toEqual(["/settings"]);
    expect(router.path()).toBe("/settings");
    expect(seen).toEqual(["/settings"]);
    router.navigate("/settings"); // already there: no new history entry
    expect(win.pushed).toEqual(["/settings"]);
    stop();
  });

  it("follows Back and Forward (popstate) and stops listening when nobody subscribes", () => {
    const win = fakeWindow("/settings");
    const router = createRouter(win);
    const seen: string[] = [];
    const stop = router.subscribe(() => seen.push(router.path()));
    expect(win.listeners.size).toBe(1);
    win.back("/");
    expect(seen).toEqual(["/"]);
    stop();
    expect(win.listeners.size).toBe(0);
    win.back("/settings");
    expect(seen).toEqual(["/"]);
  });

  it("tracks the query: a new query on the same path is a new entry, the same one is not", () => {
    const win = fakeWindow("/history");
    const router = createRouter(win);
    const seen: string[] = [];
    const stop = router.subscribe(() => seen.push(`${router.path()}${router.search()}`));
    expect(router.search()).toBe("");
    router.navigate("/history?status=completed&search=555");
    expect(router.path()).toBe("/history");
    expect(router.search()).toBe("?status=completed&search=555");
    router.navigate("/history?status=completed&search=555");
    router.navigate("/history?status=completed&search=555&page=2");
    expect(win.pushed).toEqual(["/history?status=completed&search=555", "/history?status=completed&search=555&page=2"]);
    win.back("/history?status=completed&search=555");
    expect(router.search()).toBe("?status=completed&search=555");
    win.back("/history");
    expect(router.search()).toBe("");
    expect(seen).toEqual([
      "/history?status=completed&search=555",
      "/history?status=completed&search=555&page=2",
      "/history?status=completed&search=555",
      "/history",
    ]);
    stop();
  });
});
