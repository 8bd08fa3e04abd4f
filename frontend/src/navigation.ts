// The page's path, kept in the History API: navigate() pushes, Back/Forward (popstate) are followed.

import { useSyncExternalStore } from "react";

export interface HistoryWindow {
  location: { pathname: string; search: string; hash: string };
  history: { pushState(data: unknown, unused: string, url?: string | URL | null): void };
  addEventListener(type: "popstate", listener: () => void): void;
  removeEventListener(type: "popstate", listener: () => void): void;
  scrollTo?(x: number, y: number): void;
}

export interface Router {
  path(): string;
  subscribe(listener: () => void): () => void;
  /** Push `path` (unless already there) and tell the subscribers. */
  navigate(path: string): void;
}

export function createRouter(win: HistoryWindow): Router {
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  return {
    path: () => win.location.pathname,
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

const noWindow: Router = { path: () => "/", subscribe: () => () => undefined, navigate: () => undefined };

export const router: Router = typeof window === "undefined" ? noWindow : createRouter(window);

/** The current pathname; re-renders on navigate() and Back/Forward. */
export function usePathname(r: Router = router): string {
  return useSyncExternalStore(r.subscribe, r.path, r.path);
}
