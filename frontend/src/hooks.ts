// Small React hooks over the page's external stores: a shared clock and the store itself.

import { useSyncExternalStore } from "react";
import { systemClock, type Clock } from "./connection";
import type { Store } from "./store";

/** A clock read every `intervalMs` while anyone listens: every listener sees the same tick. */
export interface Ticker {
  /** Local ms of the latest tick. */
  now(): number;
  subscribe(listener: () => void): () => void;
}

export function createTicker(intervalMs: number, clock: Clock = systemClock): Ticker {
  const listeners = new Set<() => void>();
  let last = clock.now();
  let timer: unknown = null;
  const tick = () => {
    last = clock.now();
    for (const listener of [...listeners]) listener();
  };
  return {
    now: () => last,
    subscribe(listener) {
      if (listeners.size === 0) {
        // Idle until now: the time read before subscribing may be old (React reads it again).
        last = clock.now();
        timer = clock.setInterval(tick, intervalMs);
      }
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && timer !== null) {
          clock.clearInterval(timer);
          timer = null;
        }
      };
    },
  };
}

const tickers = new Map<number, Ticker>();

function sharedTicker(intervalMs: number): Ticker {
  let ticker = tickers.get(intervalMs);
  if (!ticker) {
    ticker = createTicker(intervalMs);
    tickers.set(intervalMs, ticker);
  }
  return ticker;
}

/**
 * Local Date.now(), refreshed every `intervalMs`: components that ask for the same interval
 * tick together (the durations on the page move as one).
 */
export function useNow(intervalMs: number): number {
  const ticker = sharedTicker(intervalMs);
  return useSyncExternalStore(ticker.subscribe, ticker.now, ticker.now);
}

export function useStore<T>(store: Store<T>): T {
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}

/**
 * `select(store's state)`, re-rendering only when it changes (by Object.is): `select` must
 * return a value already in the state, or a stable one (a memoised selector).
 */
export function useStoreValue<T, V>(store: Store<T>, select: (state: T) => V): V {
  const read = () => select(store.get());
  return useSyncExternalStore(store.subscribe, read, read);
}
