import { describe, expect, it } from "vitest";
import { createRouter, type HistoryWindow } from "./navigation";

function fakeWindow(path = "/") {
  const listeners = new Set<() => void>();
  const pushed: string[] = [];
  const win: HistoryWindow & { back(to: string): void; pushed: string[]; listeners: Set<() => void> } = {
    location: { pathname: path, search: "", hash: "" },
    history: {
      pushState(_data, _unused, url) {
        pushed.push(String(url));
        win.location.pathname = String(url);
      },
    },
    addEventListener: (_type, listener) => listeners.add(listener),
    removeEventListener: (_type, listener) => listeners.delete(listener),
    back(to: string) {
      win.location.pathname = to;
      for (const listener of listeners) listener();
    },
    pushed,
    listeners,
  };
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
});
