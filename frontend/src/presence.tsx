// The page's public React hooks over one signed-in session's DashboardController:
// DashboardProvider creates the controller (once per session) and the hooks read it.
//
//   useWebSocketConnection() -> {state, attempt, nextRetryAt, polling, retryNow, view}
//   useCallPresence(organizationId) -> {activeCalls, members, extensions, recent, stats, clockOffsetMs}

import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useEffectEvent,
  useMemo,
  useState,
  type ReactNode,
} from "react";
import type { LiveApi } from "./api";
import { DashboardController, type DashboardState } from "./controller";
import { debugValues, publishDebug } from "./debug";
import { useStore, useStoreValue } from "./hooks";
import { connectRealtime, type RealtimeFactory } from "./realtime";
import {
  EMPTY_PRESENCE,
  connectionSelector,
  presenceSelector,
  type CallPresence,
  type ConnectionInfo,
} from "./selectors";
import { createStore } from "./store";

interface Session {
  controller: DashboardController;
  organizationId: number | string;
  userId: number | string;
  /** Shared by every hook of the session: the board is derived once per change, not once per panel. */
  selectPresence(state: DashboardState): CallPresence;
  selectConnection(state: DashboardState): ConnectionInfo;
}

const SessionContext = createContext<Session | null>(null);

interface ProviderProps {
  api: LiveApi;
  token: string;
  organizationId: number | string;
  /** The signed-in user (their own extensions come first on the board). */
  userId: number | string;
  /** An API call answered 401: the session is over. */
  onUnauthorized(): void;
  /** The realtime connection (tests pass their own). */
  realtime?: RealtimeFactory;
  children: ReactNode;
}

/**
 * One controller per signed-in session (api, token, organization): started when mounted,
 * stopped (its socket closed) when unmounted or when the session changes. It publishes the
 * page's counters on window.__opbxDashboard, and retries the socket when the browser is back
 * online. Renders nothing until the controller exists (the first effect).
 */
export function DashboardProvider({
  api,
  token,
  organizationId,
  userId,
  onUnauthorized,
  realtime = connectRealtime,
  children,
}: ProviderProps) {
  // An external slot rather than state: the effect below fills it the way a store is fed.
  const [slot] = useState(() => createStore<DashboardController | null>(null));
  const unauthorized = useEffectEvent(() => onUnauthorized());

  useEffect(() => {
    const controller = new DashboardController({
      api,
      token,
      organizationId,
      realtime,
      onUnauthorized: () => unauthorized(),
    });
    const publish = () => publishDebug(debugValues(controller.store.get()));
    publish();
    const unsubscribe = controller.store.subscribe(publish);
    controller.start().catch(() => undefined);
    const online = () => controller.retryNow();
    window.addEventListener("online", online);
    slot.set(controller);
    return () => {
      window.removeEventListener("online", online);
      unsubscribe();
      controller.stop();
    };
  }, [api, token, organizationId, realtime, slot]);

  const controller = useStore(slot);
  const session = useMemo((): Session | null => {
    if (!controller) return null;
    const presence = presenceSelector();
    return {
      controller,
      organizationId,
      userId,
      selectPresence: (state) => presence(state, userId),
      selectConnection: connectionSelector(),
    };
  }, [controller, organizationId, userId]);
  if (!session) return null;
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("the dashboard's hooks need a <DashboardProvider> above them");
  return session;
}

/** `select(state)` of the session's controller, re-rendering only when it changes (see useStoreValue). */
export function useDashboardValue<V>(select: (state: DashboardState) => V): V {
  return useStoreValue(useSession().controller.store, select);
}

/** The realtime connection: its state, attempt, next retry, whether it is polling, and a way to retry now. */
export function useWebSocketConnection(): ConnectionInfo & { retryNow(): void } {
  const { controller, selectConnection } = useSession();
  const info = useStoreValue(controller.store, selectConnection);
  const retryNow = useCallback(() => controller.retryNow(), [controller]);
  return useMemo(() => ({ ...info, retryNow }), [info, retryNow]);
}

/**
 * The organization's calls and people, live: active calls, who is online, the extensions
 * board (derived), recent calls, today's figures and the server clock's offset. Another
 * organization than the session's has nothing to show here: EMPTY_PRESENCE.
 */
export function useCallPresence(organizationId: number | string): CallPresence {
  const session = useSession();
  const presence = useStoreValue(session.controller.store, session.selectPresence);
  return String(organizationId) === String(session.organizationId) ? presence : EMPTY_PRESENCE;
}
