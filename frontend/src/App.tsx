import { useCallback, useEffect, useMemo, useState } from "react";
import { createApi, isUnauthorized } from "./api";
import { Dashboard } from "./components/Dashboard";
import { LoginForm } from "./components/LoginForm";
import { SIGNED_OUT_DEBUG, publishDebug } from "./debug";
import { clearToken, loadToken, saveToken } from "./session";
import type { Organization, User } from "./types";

export type AuthState =
  | { status: "checking"; token: string }
  | { status: "signed-out"; message: string | null }
  | { status: "signed-in"; token: string; user: User; organization: Organization };

/** A token kept from an earlier visit is checked first; without one, the sign-in form. */
function initialAuth(): AuthState {
  const token = loadToken();
  return token ? { status: "checking", token } : { status: "signed-out", message: null };
}

export function App() {
  const [auth, setAuth] = useState<AuthState>(initialAuth);
  const api = useMemo(() => createApi(() => loadToken()), []);
  const checking = auth.status === "checking" ? auth.token : null;

  useEffect(() => {
    if (checking === null) return;
    let cancelled = false;
    api.me().then(
      (me) => {
        if (!cancelled) setAuth({ status: "signed-in", token: checking, user: me.user, organization: me.organization });
      },
      (err: unknown) => {
        if (cancelled) return;
        if (isUnauthorized(err)) clearToken();
        setAuth({
          status: "signed-out",
          message: isUnauthorized(err) ? null : "Could not reach the server. Please sign in again.",
        });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, checking]);

  useEffect(() => {
    if (auth.status !== "signed-in") {
      publishDebug({ ...SIGNED_OUT_DEBUG });
    }
  }, [auth.status]);

  const signIn = useCallback(
    async (email: string, password: string) => {
      const res = await api.login(email, password);
      saveToken(res.token);
      setAuth({ status: "signed-in", token: res.token, user: res.user, organization: res.organization });
    },
    [api],
  );

  const signOut = useCallback(
    (message: string | null = null, revoke = true) => {
      if (revoke && loadToken()) {
        void api.logout().catch(() => undefined);
      }
      clearToken();
      setAuth({ status: "signed-out", message });
    },
    [api],
  );

  // Stable: the dashboard's pages keep them in their effects' dependencies.
  const onSignOut = useCallback(() => signOut(), [signOut]);
  const onUnauthorized = useCallback(
    () => signOut("Your session has expired. Please sign in again.", false),
    [signOut],
  );
  const onUserChange = useCallback(
    (user: User) => setAuth((current) => (current.status === "signed-in" ? { ...current, user } : current)),
    [],
  );

  if (auth.status === "checking") {
    return (
      <main className="center-screen">
        <p className="muted">Checking your session…</p>
      </main>
    );
  }
  if (auth.status === "signed-out") {
    return <LoginForm onSubmit={signIn} notice={auth.message} />;
  }
  return (
    <Dashboard
      api={api}
      token={auth.token}
      user={auth.user}
      organization={auth.organization}
      onSignOut={onSignOut}
      onUnauthorized={onUnauthorized}
      onUserChange={onUserChange}
    />
  );
}
