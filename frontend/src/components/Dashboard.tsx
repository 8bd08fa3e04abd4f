import { useEffect, type MouseEvent } from "react";
import type { ApiClient } from "../api";
import { router, usePathname } from "../navigation";
import { DashboardProvider, useDashboardValue } from "../presence";
import { isAdmin, isPlainLeftClick, pageForPath, pageTitle } from "../routes";
import { callChanges } from "../selectors";
import type { Organization, User } from "../types";
import { ActiveCalls } from "./ActiveCalls";
import { AppHeader } from "./AppHeader";
import { TodayCharts } from "./charts/TodayCharts";
import { ExtensionsBoard } from "./ExtensionsBoard";
import { HistoryPage } from "./history/HistoryPage";
import { OnlineMembers } from "./OnlineMembers";
import { RecentCalls } from "./RecentCalls";
import { SettingsPage } from "./settings/SettingsPage";
import { StatsRow } from "./StatsRow";

interface Props {
  api: ApiClient;
  token: string;
  user: User;
  organization: Organization;
  /** Stable callbacks (App's useCallback): pages keep them in their effects' dependencies. */
  onSignOut(): void;
  onUnauthorized(): void;
  /** The signed-in user changed (an admin renamed or demoted themself in Settings). */
  onUserChange(user: User): void;
}

/** The signed-in page: one realtime session for as long as the user stays signed in, whatever page is shown. */
export function Dashboard(props: Props) {
  const { api, token, user, organization, onUnauthorized } = props;
  return (
    <DashboardProvider
      api={api}
      token={token}
      organizationId={organization.id ?? user.organization_id}
      userId={user.id}
      onUnauthorized={onUnauthorized}
    >
      <Pages {...props} />
    </DashboardProvider>
  );
}

function Pages({ api, user, organization, onSignOut, onUnauthorized, onUserChange }: Props) {
  const path = usePathname();
  const page = pageForPath(path);
  const organizationId = organization.id ?? user.organization_id;

  useEffect(() => {
    document.title = pageTitle(page);
  }, [page]);

  return (
    <div className="app">
      <AppHeader user={user} organization={organization} page={page} onNavigate={router.navigate} onSignOut={onSignOut} />

      {page === "live" && (
        <main className="live">
          <LivePage organizationId={organizationId} user={user} />
        </main>
      )}
      {page === "history" && (
        <main className="history-main">
          <History api={api} onUnauthorized={onUnauthorized} />
        </main>
      )}
      {page === "settings" &&
        (isAdmin(user) ? (
          <SettingsPage api={api} currentUser={user} onUnauthorized={onUnauthorized} onUserChange={onUserChange} />
        ) : (
          <main>
            <section className="card panel page-message" data-testid="settings-admins-only">
              <h2>Settings</h2>
              <p className="muted">Only admins can change settings. Ask an admin of your organization.</p>
              <a href="/" className="nav-link" onClick={(event) => followHome(event)}>
                Back to the live calls
              </a>
            </section>
          </main>
        ))}
      {page === null && (
        <main>
          <section className="card panel page-message" data-testid="page-not-found">
            <h2>Page not found</h2>
            <p className="muted">There is no page at {path}.</p>
            <a href="/" className="nav-link" onClick={(event) => followHome(event)}>
              Back to the live calls
            </a>
          </section>
        </main>
      )}
    </div>
  );
}

function followHome(event: MouseEvent<HTMLAnchorElement>) {
  if (!isPlainLeftClick(event)) return;
  event.preventDefault();
  router.navigate("/");
}

function LivePage({ organizationId, user }: { organizationId: number | string; user: User }) {
  const error = useDashboardValue((state) => state.error);
  const stats = useDashboardValue((state) => state.stats);
  return (
    <>
      {error && (
        <p className="banner error" role="alert">
          {error}
        </p>
      )}

      <StatsRow organizationId={organizationId} />
      <TodayCharts stats={stats} />

      <div className="grid">
        <div className="main-column">
          <ActiveCalls organizationId={organizationId} />
          <ExtensionsBoard organizationId={organizationId} />
        </div>
        <div className="side">
          <OnlineMembers organizationId={organizationId} currentUserId={user.id} />
          <RecentCalls organizationId={organizationId} />
        </div>
      </div>
    </>
  );
}

/** The history page, told whenever the page applies a call event or snapshot (new calls may match its filters). */
function History({ api, onUnauthorized }: { api: ApiClient; onUnauthorized(): void }) {
  const extensions = useDashboardValue((state) => state.extensions);
  const changes = useDashboardValue(callChanges);
  return <HistoryPage api={api} extensions={extensions} changes={changes} onUnauthorized={onUnauthorized} />;
}
