import { useCallback, useEffect, useMemo, useState } from "react";
import { createApi, isUnauthorized } from "./api";
import { Dashboard } from "./components/Dashboard";
import { LoginForm } from "./components/LoginForm";
import { SIGNED_OUT_DEBUG, publishDebug } from "./debug";
import { clearToken, loadToken, saveToken } from "./session";
import type { Organization, User } from "./types";

export type AuthState =
  | { status: "checking" }
  | { status: "signed-out"; message: string | null }
  | { status: "signed-in"; token: string; user: User; organization: Organization };

export function App() {
  const [auth, setAuth] = useState<AuthState>(() =>
    loadToken() ? { status: "checking" } : { status: "signed-out", message: null },
  );
  const api = useMemo(() => createApi(() => loadToken()), []);

  useEffect(() => {
    if (auth.status !== "checking") return;
    const token = loadToken();
    if (!token) {
      setAuth({ status: "signed-out", message: null });
      return;
    }
    let cancelled = false;
    api.me().then(
      (me) => {
        if (!cancelled) setAuth({ status: "signed-in", token, user: me.user, organization: me.organization });
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
  }, [api, auth.status]);

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

  if (auth.status === "checking") {
    return (
      <div className="center-screen">
        <p className="muted">Checking your session…</p>
      </div>
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
      onSignOut={() => signOut()}
      onUnauthorized={() => signOut("Your session has expired. Please sign in again.", false)}
      onUserChange={(user) =>
        setAuth((current) => (current.status === "signed-in" ? { ...current, user } : current))
      }
    />
  );
}
