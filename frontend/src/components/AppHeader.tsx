import { navItemsFor, type Page } from "../routes";
import type { Organization, User } from "../types";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { NavBar } from "./NavBar";

interface Props {
  user: User;
  organization: Organization;
  page: Page | null;
  onNavigate(path: string): void;
  onSignOut(): void;
}

/** Shared by every page: brand, page links, the connection indicator and the signed-in user. */
export function AppHeader({ user, organization, page, onNavigate, onSignOut }: Props) {
  return (
    <header className="topbar">
      <div className="brand-block">
        <h1 className="brand">
          OpBX <span>Realtime</span>
        </h1>
        <span className="org muted">{organization.name}</span>
      </div>
      <NavBar items={navItemsFor(user)} current={page} onNavigate={onNavigate} />
      <ConnectionIndicator />
      <div className="user-block">
        <span data-testid="current-user" className="current-user" title={user.email}>
          {user.name}
        </span>
        <button data-testid="signout" type="button" className="ghost" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
