// The dashboard's pages and the header navigation between them (pure).

export type Page = "live" | "history" | "settings";

export interface NavItem {
  page: Page;
  path: string;
  label: string;
  /** data-testid of the link. */
  testId: string;
  adminOnly: boolean;
}

/** In header order. A new page (History, …) is one more entry here and a view in Dashboard. */
export const NAV_ITEMS: readonly NavItem[] = [
  { page: "live", path: "/", label: "Live", testId: "nav-live", adminOnly: false },
  { page: "history", path: "/history", label: "History", testId: "nav-history", adminOnly: false },
  { page: "settings", path: "/settings", label: "Settings", testId: "nav-settings", adminOnly: true },
];

export function isAdmin(user: { role: string } | null | undefined): boolean {
  return user?.role === "admin";
}

/** The links `user` may follow. */
export function navItemsFor(user: { role: string }, items: readonly NavItem[] = NAV_ITEMS): NavItem[] {
  return items.filter((item) => !item.adminOnly || isAdmin(user));
}

/** `/settings/` and `/settings` are the same page; `//` collapses; no query or hash. */
export function normalizePath(pathname: string): string {
  const path = pathname.split(/[?#]/, 1)[0] ?? "";
  const collapsed = `/${path.split("/").filter(Boolean).join("/")}`;
  return collapsed;
}

/** The page at `pathname`, or null when no page lives there. */
export function pageForPath(pathname: string, items: readonly NavItem[] = NAV_ITEMS): Page | null {
  const path = normalizePath(pathname);
  return items.find((item) => item.path === path)?.page ?? null;
}

export function pathForPage(page: Page, items: readonly NavItem[] = NAV_ITEMS): string {
  return items.find((item) => item.page === page)?.path ?? "/";
}

export interface ClickLike {
  button: number;
  metaKey: boolean;
  ctrlKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  defaultPrevented: boolean;
}

/** A click the page handles itself; others (middle, ctrl/⌘/shift) open a tab or window as usual. */
export function isPlainLeftClick(event: ClickLike): boolean {
  return (
    !event.defaultPrevented &&
    event.button === 0 &&
    !event.metaKey &&
    !event.ctrlKey &&
    !event.shiftKey &&
    !event.altKey
  );
}

export function pageTitle(page: Page | null): string {
  const item = NAV_ITEMS.find((entry) => entry.page === page);
  return page === "live" || !item ? "OpBX Realtime" : `${item.label} · OpBX Realtime`;
}
