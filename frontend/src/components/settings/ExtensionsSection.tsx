import { useState, type Dispatch, type FormEvent } from "react";
import type { DirectoryApi } from "../../api";
import { assignableUsers, idFromSelect, userLabel, type DirectoryAction } from "../../directory";
import type { DirectoryUser, Extension } from "../../types";
import { extensionNumberHint } from "../../validation";
import { ConfirmButton, Field, SectionError, SectionNotice, useSectionAction } from "./common";

interface Props {
  api: DirectoryApi;
  extensions: Extension[];
  users: DirectoryUser[];
  dispatch: Dispatch<DirectoryAction>;
  onUnauthorized(): void;
}

export function ExtensionsSection({ api, extensions, users, dispatch, onUnauthorized }: Props) {
  const action = useSectionAction(onUnauthorized);
  const [number, setNumber] = useState("");
  const [userId, setUserId] = useState("");
  const busy = action.busy !== null;

  function assign(extension: Extension, value: string) {
    const user_id = idFromSelect(value);
    if (user_id === extension.user_id) return;
    void action.run("table", `assign-${extension.id}`, async () => {
      dispatch({ type: "extension", extension: await api.updateExtension(extension.id, { user_id }) });
    });
  }

  function remove(extension: Extension) {
    void action.run("table", `delete-${extension.id}`, async () => {
      await api.deleteExtension(extension.id);
      dispatch({ type: "extension-deleted", id: extension.id });
      action.announce(`Extension ${extension.number} deleted.`);
    });
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const value = number.trim();
    if (!value) {
      action.refuse("form", "Fill in the extension number.");
      return;
    }
    await action.run("form", "create", async () => {
      const extension = await api.createExtension({ number: value, user_id: idFromSelect(userId) });
      dispatch({ type: "extension", extension });
      setNumber("");
      setUserId("");
      action.announce(`Extension ${extension.number} created.`);
    });
  }

  return (
    <section
      className="card panel settings-section"
      aria-label="Extensions"
      data-testid="settings-extensions"
      id="extensions"
    >
      <h2>
        Extensions <span className="count">{extensions.length}</span>
      </h2>
      <SectionError action={action} place="table" />
      {extensions.length === 0 ? (
        <p className="empty muted">No extensions yet.</p>
      ) : (
        <table className="calls-table settings-table">
          <thead>
            <tr>
              <th>Extension</th>
              <th>Assigned to</th>
              <th className="actions">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {extensions.map((extension) => (
              <tr
                key={extension.id}
                data-testid="extension-row"
                data-extension-id={extension.id}
                data-number={extension.number}
                data-user-id={extension.user_id ?? ""}
              >
                <td data-label="Extension" data-testid="extension-number" className="mono">
                  {extension.number}
                </td>
                <td data-label="Assigned to">
                  <select
                    data-testid="extension-user"
                    aria-label={`Who has extension ${extension.number}`}
                    value={extension.user_id ?? ""}
                    disabled={busy}
                    onChange={(event) => assign(extension, event.target.value)}
                  >
                    <option value="">Nobody</option>
                    {assignableUsers(users, extension.user_id).map((user) => (
                      <option key={user.id} value={user.id}>
                        {userLabel(user)}
                      </option>
                    ))}
                  </select>
                </td>
                <td data-label="" className="actions">
                  <ConfirmButton
                    testId="extension-delete"
                    label="Delete"
                    question={`Delete ${extension.number}?`}
                    disabled={busy}
                    onConfirm={() => remove(extension)}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <form className="settings-form" onSubmit={(event) => void submit(event)} noValidate>
        <h3>New extension</h3>
        <div className="form-fields">
          <Field label="Number" hint={extensionNumberHint(number)} help="1 to 16 digits." className="narrow">
            <input
              data-testid="extension-new-number"
              type="text"
              inputMode="numeric"
              autoComplete="off"
              placeholder="110"
              value={number}
              onChange={(event) => setNumber(event.target.value)}
            />
          </Field>
          <Field label="Assigned to">
            <select data-testid="extension-new-user" value={userId} onChange={(event) => setUserId(event.target.value)}>
              <option value="">Nobody</option>
              {assignableUsers(users).map((user) => (
                <option key={user.id} value={user.id}>
                  {userLabel(user)}
                </option>
              ))}
            </select>
          </Field>
          <div className="form-submit">
            <button type="submit" className="primary" data-testid="extension-submit" disabled={busy}>
              {action.busy === "create" ? "Creating…" : "Create"}
            </button>
          </div>
        </div>
        <SectionError action={action} place="form" />
        <SectionNotice action={action} />
      </form>
    </section>
  );
}
