import { useState, type Dispatch, type FormEvent } from "react";
import type { DirectoryApi } from "../../api";
import { ROLES, roleLabel, sameId, type DirectoryAction } from "../../directory";
import type { DirectoryUser, Role, User } from "../../types";
import {
  emailHint,
  MIN_PASSWORD_LENGTH,
  missingFields,
  missingMessage,
  PASSWORD_RULE,
  passwordHint,
} from "../../validation";
import { Field, SectionError, SectionNotice, useSectionAction } from "./common";

interface Props {
  api: DirectoryApi;
  users: DirectoryUser[];
  currentUser: User;
  dispatch: Dispatch<DirectoryAction>;
  onUnauthorized(): void;
  onUserChange(user: User): void;
}

interface Invite {
  name: string;
  email: string;
  role: Role;
  password: string;
}

const EMPTY_INVITE: Invite = { name: "", email: "", role: "agent", password: "" };
const INVITE_LABELS = { name: "name", email: "email", password: "password" };

export function UsersSection({ api, users, currentUser, dispatch, onUnauthorized, onUserChange }: Props) {
  const action = useSectionAction(onUnauthorized);
  const [invite, setInvite] = useState<Invite>(EMPTY_INVITE);
  const busy = action.busy !== null;

  function changed(user: DirectoryUser) {
    dispatch({ type: "user", user });
    if (sameId(user.id, currentUser.id)) {
      onUserChange({ ...currentUser, name: user.name, email: user.email, role: user.role });
    }
  }

  function changeRole(user: DirectoryUser, role: Role) {
    if (role === user.role) return;
    void action.run("table", `role-${user.id}`, async () => changed(await api.updateUser(user.id, { role })));
  }

  function setDisabled(user: DirectoryUser, disabled: boolean) {
    void action.run("table", `disable-${user.id}`, async () =>
      changed(disabled ? await api.disableUser(user.id) : await api.enableUser(user.id)),
    );
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const missing = missingMessage(missingFields(invite, INVITE_LABELS));
    if (missing) {
      action.refuse("form", missing);
      return;
    }
    const sent = { ...invite, name: invite.name.trim(), email: invite.email.trim() };
    await action.run("form", "invite", async () => {
      const user = await api.createUser(sent);
      dispatch({ type: "user", user });
      setInvite(EMPTY_INVITE);
      action.announce(`${user.name} can now sign in as ${user.email} with the password you chose.`);
    });
  }

  return (
    <section className="card panel settings-section" aria-label="Users" data-testid="settings-users" id="users">
      <h2>
        Users <span className="count">{users.length}</span>
      </h2>
      <SectionError action={action} place="table" />
      <table className="calls-table settings-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Email</th>
            <th>Role</th>
            <th>Status</th>
            <th className="actions">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => {
            const self = sameId(user.id, currentUser.id);
            return (
              <tr
                key={user.id}
                data-testid="user-row"
                data-user-id={user.id}
                data-role={user.role}
                data-disabled={user.disabled ? "true" : "false"}
                className={user.disabled ? "row-disabled" : undefined}
              >
                <td data-label="Name">
                  <span>
                    <span data-testid="user-name">{user.name}</span>
                    {self && <span className="muted you"> (you)</span>}
                  </span>
                </td>
                <td data-label="Email" data-testid="user-email" className="email">
                  {user.email}
                </td>
                <td data-label="Role">
                  <select
                    data-testid="user-role"
                    aria-label={`Role of ${user.name}`}
                    value={user.role}
                    disabled={busy}
                    onChange={(event) => changeRole(user, event.target.value as Role)}
                  >
                    {ROLES.map((role) => (
                      <option key={role} value={role}>
                        {roleLabel(role)}
                      </option>
                    ))}
                  </select>
                </td>
                <td data-label="Status">
                  <span
                    data-testid="user-status"
                    className={`badge ${user.disabled ? "status-failed" : "status-completed"}`}
                  >
                    {user.disabled ? "Disabled" : "Active"}
                  </span>
                </td>
                <td data-label="" className="actions">
                  {user.disabled ? (
                    <button
                      type="button"
                      className="ghost small"
                      data-testid="user-enable"
                      disabled={busy}
                      onClick={() => setDisabled(user, false)}
                    >
                      Enable
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="ghost danger small"
                      data-testid="user-disable"
                      disabled={busy || self}
                      title={self ? "You cannot disable your own account" : "Sign them out and refuse their sign-ins"}
                      onClick={() => setDisabled(user, true)}
                    >
                      Disable
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>

      <form className="settings-form" onSubmit={(event) => void submit(event)} noValidate data-testid="invite-form">
        <h3>Invite a user</h3>
        <div className="form-fields">
          <Field label="Name">
            <input
              data-testid="invite-name"
              type="text"
              autoComplete="off"
              value={invite.name}
              onChange={(event) => setInvite({ ...invite, name: event.target.value })}
            />
          </Field>
          <Field label="Email" hint={emailHint(invite.email)}>
            <input
              data-testid="invite-email"
              type="email"
              autoComplete="off"
              value={invite.email}
              onChange={(event) => setInvite({ ...invite, email: event.target.value })}
            />
          </Field>
          <Field label="Role" className="narrow">
            <select
              data-testid="invite-role"
              value={invite.role}
              onChange={(event) => setInvite({ ...invite, role: event.target.value as Role })}
            >
              {ROLES.map((role) => (
                <option key={role} value={role}>
                  {roleLabel(role)}
                </option>
              ))}
            </select>
          </Field>
          <Field
            label="Password"
            hint={passwordHint(invite.password, invite.email)}
            help={`At least ${MIN_PASSWORD_LENGTH} characters.`}
          >
            <input
              title={PASSWORD_RULE}
              data-testid="invite-password"
              type="password"
              autoComplete="new-password"
              value={invite.password}
              onChange={(event) => setInvite({ ...invite, password: event.target.value })}
            />
          </Field>
          <div className="form-submit">
            <button type="submit" className="primary" data-testid="invite-submit" disabled={busy}>
              {action.busy === "invite" ? "Inviting…" : "Invite"}
            </button>
          </div>
        </div>
        <SectionError action={action} place="form" />
        <SectionNotice action={action} />
      </form>
    </section>
  );
}
