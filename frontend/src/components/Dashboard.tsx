import { useCallback, useEffect, useMemo, useRef, useState, type MouseEvent } from "react";
import type { ApiClient } from "../api";
import { liveStats, visibleCalls } from "../calls";
import { DashboardController, type DashboardState } from "../controller";
import { publishDebug } from "../debug";
import { useNow, useStore } from "../hooks";
import { router, usePathname } from "../navigation";
import { connectRealtime } from "../realtime";
import { isAdmin, isPlainLeftClick, pageForPath, pageTitle } from "../routes";
import type { Organization, User } from "../types";
import { ActiveCalls } from "./ActiveCalls";
import { AppHeader } from "./AppHeader";
import { OnlineMembers } from "./OnlineMembers";
import { RecentCalls } from "./RecentCalls";
import { SettingsPage } from "./settings/SettingsPage";
import { StatsRow } from "./StatsRow";

interface Props {
  api: ApiClient;
  token: string;
  user: User;
  organization: Organization;
  onSignOut(): void;
  onUnauthorized(): void;
  /** The signed-in user changed (an admin renamed or demoted themself in Settings). */
  onUserChange(user: User): void;
}

export function Dashboard(props: Props) {
  const { api, token, user, organization, onUnauthorized } = props;
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;
  const userChange = useRef(props.onUserChange);
  userChange.current = props.onUserChange;
  const stableUnauthorized = useCallback(() => unauthorized.current(), []);
  const stableUserChange = useCallback((changed: User) => userChange.current(changed), []);
  const [controller, setController] = useState<DashboardController | null>(null);

  // One controller per signed-in session; stopped (echo disconnected) on unmount.
  useEffect(() => {
    const c = new DashboardController({
      api,
      token,
      organizationId: organization.id ?? user.organization_id,
      realtime: connectRealtime,
      onUnauthorized: () => unauthorized.current(),
    });
    const publish = () => {
      const s = c.store.get();
      publishDebug({
        eventsApplied: s.calls.eventsApplied,
        snapshotsApplied: s.calls.snapshotsApplied,
        connectionState: s.connection.state,
        appliedSeq: s.calls.seq,
        syncSeq: s.delivery.syncSeq,
        syncsHeard: s.delivery.syncsHeard,
      });
    };
    publish();
    const unsubscribe = c.store.subscribe(publish);
    c.start().catch(() => undefined);
    const online = () => c.retryNow();
    window.addEventListener("online", online);
    setController(c);
    return () => {
      window.removeEventListener("online", online);
      unsubscribe();
      c.stop();
    };
  }, [api, token, organization.id, user.organization_id]);

  if (!controller) return null;
  return (
    <DashboardView
      {...props}
      controller={controller}
      stableUnauthorized={stableUnauthorized}
      stableUserChange={stableUserChange}
    />
  );
}

function DashboardView({
  api,
  user,
  organization,
  onSignOut,
  controller,
  stableUnauthorized,
  stableUserChange,
}: Props & { controller: DashboardController; stableUnauthorized(): void; stableUserChange(user: User): void }) {
  const state = useStore(controller.store);
  const now = useNow(500);
  const path = usePathname();
  const page = pageForPath(path);

  useEffect(() => {
    document.title = pageTitle(page);
  }, [page]);

  return (
    <div className="app">
      <AppHeader
        user={user}
        organization={organization}
        page={page}
        connection={state.connection}
        now={now}
        onRetry={() => controller.retryNow()}
        onNavigate={router.navigate}
        onSignOut={onSignOut}
      />

      {page === "live" && <LiveView state={state} now={now} user={user} />}
      {page === "settings" &&
        (isAdmin(user) ? (
          <SettingsPage
            api={api}
            currentUser={user}
            onUnauthorized={stableUnauthorized}
            onUserChange={stableUserChange}
          />
        ) : (
          <section className="card panel page-message" data-testid="settings-admins-only">
            <h2>Settings</h2>
            <p className="muted">Only admins can change settings. Ask an admin of your organization.</p>
            <a href="/" className="nav-link" onClick={(event) => followHome(event)}>
              Back to the live calls
            </a>
          </section>
        ))}
      {page === null && (
        <section className="card panel page-message" data-testid="page-not-found">
          <h2>Page not found</h2>
          <p className="muted">There is no page at {path}.</p>
          <a href="/" className="nav-link" onClick={(event) => followHome(event)}>
            Back to the live calls
          </a>
        </section>
      )}
    </div>
  );
}

function followHome(event: MouseEvent<HTMLAnchorElement>) {
  if (!isPlainLeftClick(event)) return;
  event.preventDefault();
  router.navigate("/");
}

function LiveView({ state, now, user }: { state: DashboardState; now: number; user: User }) {
  const serverNow = now + state.clockOffsetMs;
  const calls = useMemo(() => visibleCalls(state.calls), [state.calls]);
  const live = liveStats(state.calls, serverNow);
  return (
    <>
      {state.error && <p className="banner error">{state.error}</p>}

      <StatsRow live={live} stats={state.stats} />

      <main className="grid">
        <ActiveCalls calls={calls} serverNow={serverNow} />
        <aside className="side">
          <OnlineMembers members={state.members} currentUserId={user.id} />
          <RecentCalls calls={state.recent} />
        </aside>
      </main>
    </>
  );
}
