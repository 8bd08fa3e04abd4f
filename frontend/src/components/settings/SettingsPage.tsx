import { memo, useEffect, useReducer, useState } from "react";
import { isUnauthorized, type DirectoryApi } from "../../api";
import { directoryReducer, EMPTY_DIRECTORY, refusalMessage } from "../../directory";
import type { OrganizationSettings, User } from "../../types";
import { ExtensionsSection } from "./ExtensionsSection";
import { NumbersSection } from "./NumbersSection";
import { UsersSection } from "./UsersSection";
import { WebhooksSection } from "./WebhooksSection";

interface Props {
  api: DirectoryApi;
  currentUser: User;
  /** Stable callbacks (the page is memoised: the live clock does not re-render it). */
  onUnauthorized(): void;
  onUserChange(user: User): void;
}

type Load = { status: "loading" } | { status: "failed"; message: string } | { status: "ready" };

/** Admins' settings: users, extensions, numbers and webhooks of the caller's organization. */
export const SettingsPage = memo(function SettingsPage({ api, currentUser, onUnauthorized, onUserChange }: Props) {
  const [directory, dispatch] = useReducer(directoryReducer, EMPTY_DIRECTORY);
  const [organization, setOrganization] = useState<OrganizationSettings | null>(null);
  const [load, setLoad] = useState<Load>({ status: "loading" });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let cancelled = false;
    setLoad({ status: "loading" });
    Promise.all([api.organization(), api.listUsers(), api.listExtensions(), api.listDids()]).then(
      ([org, users, extensions, dids]) => {
        if (cancelled) return;
        setOrganization(org);
        dispatch({ type: "loaded", users, extensions, dids });
        setLoad({ status: "ready" });
      },
      (error: unknown) => {
        if (cancelled) return;
        if (isUnauthorized(error)) onUnauthorized();
        else setLoad({ status: "failed", message: refusalMessage(error) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, attempt, onUnauthorized]);

  return (
    <main className="settings" data-testid="settings-page">
      <div className="page-head">
        <h2>Settings</h2>
        <span className="muted">Who signs in, their extensions, your numbers and the Cloudonix webhooks.</span>
      </div>
      {load.status === "loading" && <p className="muted">Loading settings…</p>}
      {load.status === "failed" && (
        <p className="error banner" role="alert" data-testid="settings-load-error">
          Could not load the settings: {load.message}{" "}
          <button type="button" className="link" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </p>
      )}
      {load.status === "ready" && organization && (
        <>
          <UsersSection
            api={api}
            users={directory.users}
            currentUser={currentUser}
            dispatch={dispatch}
            onUnauthorized={onUnauthorized}
            onUserChange={onUserChange}
          />
          <div className="settings-grid">
            <ExtensionsSection
              api={api}
              extensions={directory.extensions}
              users={directory.users}
              dispatch={dispatch}
              onUnauthorized={onUnauthorized}
            />
            <NumbersSection
              api={api}
              dids={directory.dids}
              extensions={directory.extensions}
              users={directory.users}
              dispatch={dispatch}
              onUnauthorized={onUnauthorized}
            />
          </div>
          <WebhooksSection
            api={api}
            organization={organization}
            origin={window.location.origin}
            onUnauthorized={onUnauthorized}
          />
        </>
      )}
    </main>
  );
});
