import { useEffect, useMemo, useRef, useState } from "react";
import type { ApiClient } from "../api";
import { liveStats, visibleCalls } from "../calls";
import { DashboardController } from "../controller";
import { publishDebug } from "../debug";
import { useNow, useStore } from "../hooks";
import { connectRealtime } from "../realtime";
import type { Organization, User } from "../types";
import { ActiveCalls } from "./ActiveCalls";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { OnlineMembers } from "./OnlineMembers";
import { RecentCalls } from "./RecentCalls";
import { StatsRow } from "./StatsRow";

interface Props {
  api: ApiClient;
  token: string;
  user: User;
  organization: Organization;
  onSignOut(): void;
  onUnauthorized(): void;
}

export function Dashboard(props: Props) {
  const { api, token, user, organization, onUnauthorized } = props;
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;
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
  return <DashboardView {...props} controller={controller} />;
}

function DashboardView({
  user,
  organization,
  onSignOut,
  controller,
}: Props & { controller: DashboardController }) {
  const state = useStore(controller.store);
  const now = useNow(500);
  const serverNow = now + state.clockOffsetMs;
  const calls = useMemo(() => visibleCalls(state.calls), [state.calls]);
  const live = liveStats(state.calls, serverNow);

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand-block">
          <h1 className="brand">
            OpBX <span>Realtime</span>
          </h1>
          <span className="org muted">{organization.name}</span>
        </div>
        <ConnectionIndicator view={state.connection} now={now} onRetry={() => controller.retryNow()} />
        <div className="user-block">
          <span data-testid="current-user" className="current-user" title={user.email}>
            {user.name}
          </span>
          <button data-testid="signout" type="button" className="ghost" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>

      {state.error && <p className="banner error">{state.error}</p>}

      <StatsRow live={live} stats={state.stats} />

      <main className="grid">
        <ActiveCalls calls={calls} serverNow={serverNow} />
        <aside className="side">
          <OnlineMembers members={state.members} currentUserId={user.id} />
          <RecentCalls calls={state.recent} />
        </aside>
      </main>
    </div>
  );
}
