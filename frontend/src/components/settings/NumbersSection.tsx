import { useState, type Dispatch, type FormEvent } from "react";
import type { DirectoryApi } from "../../api";
import { extensionLabel, idFromSelect, type DirectoryAction } from "../../directory";
import type { Did, DirectoryUser, Extension } from "../../types";
import { normalizePhoneNumber, phoneNumberHint } from "../../validation";
import { ConfirmButton, Field, SectionError, SectionNotice, useSectionAction } from "./common";

interface Props {
  api: DirectoryApi;
  dids: Did[];
  extensions: Extension[];
  users: DirectoryUser[];
  dispatch: Dispatch<DirectoryAction>;
  onUnauthorized(): void;
}

export function NumbersSection({ api, dids, extensions, users, dispatch, onUnauthorized }: Props) {
  const action = useSectionAction(onUnauthorized);
  const [phoneNumber, setPhoneNumber] = useState("");
  const [extensionId, setExtensionId] = useState("");
  const busy = action.busy !== null;

  const extensionOptions = extensions.map((extension) => (
    <option key={extension.id} value={extension.id}>
      {extensionLabel(extension, users)}
    </option>
  ));

  function route(did: Did, value: string) {
    const extension_id = idFromSelect(value);
    if (extension_id === did.extension_id) return;
    void action.run("table", `route-${did.id}`, async () => {
      dispatch({ type: "did", did: await api.updateDid(did.id, { extension_id }) });
    });
  }

  function remove(did: Did) {
    void action.run("table", `delete-${did.id}`, async () => {
      await api.deleteDid(did.id);
      dispatch({ type: "did-deleted", id: did.id });
      action.announce(`${did.phone_number} deleted.`);
    });
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const value = normalizePhoneNumber(phoneNumber);
    if (!value) {
      action.refuse("form", "Fill in the phone number.");
      return;
    }
    await action.run("form", "create", async () => {
      const did = await api.createDid({ phone_number: value, extension_id: idFromSelect(extensionId) });
      dispatch({ type: "did", did });
      setPhoneNumber("");
      setExtensionId("");
      action.announce(`${did.phone_number} registered.`);
    });
  }

  return (
    <section className="card panel settings-section" aria-label="Numbers" data-testid="settings-numbers" id="numbers">
      <h2>
        Numbers <span className="count">{dids.length}</span>
      </h2>
      <SectionError action={action} place="table" />
      {dids.length === 0 ? (
        <p className="empty muted">No numbers yet.</p>
      ) : (
        <table className="calls-table settings-table">
          <thead>
            <tr>
              <th>Number</th>
              <th>Routed to</th>
              <th className="actions">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {dids.map((did) => (
              <tr
                key={did.id}
                data-testid="did-row"
                data-did-id={did.id}
                data-number={did.phone_number}
                data-extension-id={did.extension_id ?? ""}
              >
                <td data-label="Number" data-testid="did-number" className="mono">
                  {did.phone_number}
                </td>
                <td data-label="Routed to">
                  <select
                    data-testid="did-extension"
                    aria-label={`Where ${did.phone_number} is routed`}
                    value={did.extension_id ?? ""}
                    disabled={busy}
                    onChange={(event) => route(did, event.target.value)}
                  >
                    <option value="">No extension</option>
                    {extensionOptions}
                  </select>
                </td>
                <td data-label="" className="actions">
                  <ConfirmButton
                    testId="did-delete"
                    label="Delete"
                    question={`Delete ${did.phone_number}?`}
                    disabled={busy}
                    onConfirm={() => remove(did)}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <form className="settings-form" onSubmit={(event) => void submit(event)} noValidate>
        <h3>Register a number</h3>
        <div className="form-fields">
          <Field label="Phone number (E.164)" hint={phoneNumberHint(phoneNumber)} help="+ country code and number.">
            <input
              data-testid="did-new-number"
              type="tel"
              autoComplete="off"
              placeholder="+15550100400"
              value={phoneNumber}
              onChange={(event) => setPhoneNumber(event.target.value)}
            />
          </Field>
          <Field label="Routed to">
            <select
              data-testid="did-new-extension"
              value={extensionId}
              onChange={(event) => setExtensionId(event.target.value)}
            >
              <option value="">No extension</option>
              {extensionOptions}
            </select>
          </Field>
          <div className="form-submit">
            <button type="submit" className="primary" data-testid="did-submit" disabled={busy}>
              {action.busy === "create" ? "Registering…" : "Register"}
            </button>
          </div>
        </div>
        <SectionError action={action} place="form" />
        <SectionNotice action={action} />
      </form>
    </section>
  );
}
