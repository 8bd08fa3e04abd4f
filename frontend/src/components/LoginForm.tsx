import { useState, type FormEvent } from "react";
import { ApiError } from "../api";

interface Props {
  onSubmit(email: string, password: string): Promise<void>;
  notice: string | null;
}

export function LoginForm({ onSubmit, notice }: Props) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit(email.trim(), password);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError("Invalid email or password");
      else if (err instanceof ApiError && err.status === 0) setError("Cannot reach the server. Try again.");
      else setError(err instanceof Error ? err.message : "Sign-in failed");
      setBusy(false);
    }
  }

  return (
    <main className="center-screen">
      <form className="card login" onSubmit={submit} noValidate>
        <h1 className="brand">
          OpBX <span>Realtime</span>
        </h1>
        <p className="muted">Sign in to the live calls dashboard.</p>
        {notice && <p className="notice">{notice}</p>}
        <label>
          Email
          <input
            data-testid="login-email"
            type="email"
            name="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            data-testid="login-password"
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error && (
          <p className="error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button data-testid="login-submit" type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
