// The page's location, kept in the History API: navigate() pushes, Back/Forward (popstate) are followed.

import { useSyncExternalStore } from "react";

export interface HistoryWindow {
  location: { pathname: string; search: string; hash: string };
  history: { pushState(data: unknown, unused: string, url?: string | URL | null): void };
  addEventListener(type: "popstate", listener: () => void): void;
  removeEventListener(type: "popstate", listener: () => void): void;
  scrollTo?(x: number, y: number): void;
}

export interface Router {
  /** The pathname, without query or hash. */
  path(): string;
  /** The query, "?a=1" or "". */
  search(): string;
  subscribe(listener: () => void): () => void;
  /** Push `path` (a path with an optional query and hash; unless already there) and tell the subscribers. */
  navigate(path: string): void;
}

export function createRouter(win: HistoryWindow): Router {
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  return {
    path: () => win.location.pathname,
    search: () => win.location.search,
    subscribe(listener) {
      if (listeners.size === 0) win.addEventListener("popstate", notify);
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) win.removeEventListener("popstate", notify);
      };
    },
    navigate(path) {
      const here = win.location.pathname + win.location.search + win.location.hash;
      if (here === path) return;
      win.history.pushState(null, "", path);
      win.scrollTo?.(0, 0);
      notify();
    },
  };
}

const noWindow: Router = {
  path: () => "/",
  search: () => "",
  subscribe: () => () => undefined,
  navigate: () => undefined,
};

export const router: Router = typeof window === "undefined" ? noWindow : createRouter(window);

/** The current pathname; re-renders on navigate() and Back/Forward. */
export function usePathname(r: Router = router): string {
  return useSyncExternalStore(r.subscribe, r.path, r.path);
}

/** The current query ("?status=completed" or ""); re-renders on navigate() and Back/Forward. */
export function useSearch(r: Router = router): string {
  return useSyncExternalStore(r.subscribe, r.search, r.search);
}
