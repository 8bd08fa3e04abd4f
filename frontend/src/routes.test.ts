import { describe, expect, it } from "vitest";
import {
  isAdmin,
  isPlainLeftClick,
  NAV_ITEMS,
  navItemsFor,
  normalizePath,
  pageForPath,
  pageTitle,
  pathForPage,
  type NavItem,
} from "./routes";

const click = { button: 0, metaKey: false, ctrlKey: false, shiftKey: false, altKey: false, defaultPrevented: false };

describe("routes", () => {
  it("shows History to everyone and Settings only to admins", () => {
    expect(navItemsFor({ role: "admin" }).map((item) => item.testId)).toEqual(["nav-live", "nav-history", "nav-settings"]);
    expect(navItemsFor({ role: "supervisor" }).map((item) => item.testId)).toEqual(["nav-live", "nav-history"]);
    expect(navItemsFor({ role: "agent" }).map((item) => item.page)).toEqual(["live", "history"]);
    expect(isAdmin({ role: "admin" })).toBe(true);
    expect(isAdmin({ role: "Admin" })).toBe(false);
    expect(isAdmin(null)).toBe(false);
  });

  it("takes a new page from one more entry", () => {
    const reports = { page: "reports", path: "/reports", label: "Reports", testId: "nav-reports", adminOnly: true };
    const items = [...NAV_ITEMS, reports as unknown as NavItem];
    expect(navItemsFor({ role: "agent" }, items).map((item) => item.testId)).toEqual(["nav-live", "nav-history"]);
    expect(navItemsFor({ role: "admin" }, items).map((item) => item.testId)).toContain("nav-reports");
    expect(pageForPath("/reports", items)).toBe("reports");
  });

  it("maps paths to pages", () => {
    expect(pageForPath("/")).toBe("live");
    expect(pageForPath("")).toBe("live");
    expect(pageForPath("/settings")).toBe("settings");
    expect(pageForPath("/settings/")).toBe("settings");
    expect(pageForPath("//settings")).toBe("settings");
    expect(pageForPath("/settings?tab=x#users")).toBe("settings");
    expect(pageForPath("/settingsx")).toBeNull();
    expect(pageForPath("/nope")).toBeNull();
    expect(pathForPage("settings")).toBe("/settings");
    expect(pathForPage("live")).toBe("/");
    expect(pageForPath("/history")).toBe("history");
    expect(pageForPath("/history?status=busy")).toBe("history");
    expect(normalizePath("/a//b/")).toBe("/a/b");
  });

  it("lets modified clicks open a new tab", () => {
    expect(isPlainLeftClick(click)).toBe(true);
    expect(isPlainLeftClick({ ...click, button: 1 })).toBe(false);
    expect(isPlainLeftClick({ ...click, ctrlKey: true })).toBe(false);
    expect(isPlainLeftClick({ ...click, metaKey: true })).toBe(false);
    expect(isPlainLeftClick({ ...click, shiftKey: true })).toBe(false);
    expect(isPlainLeftClick({ ...click, altKey: true })).toBe(false);
    expect(isPlainLeftClick({ ...click, defaultPrevented: true })).toBe(false);
  });

  it("titles the pages", () => {
    expect(pageTitle("live")).toBe("OpBX Realtime");
    expect(pageTitle("settings")).toBe("Settings · OpBX Realtime");
    expect(pageTitle("history")).toBe("History · OpBX Realtime");
    expect(pageTitle(null)).toBe("OpBX Realtime");
  });
});
