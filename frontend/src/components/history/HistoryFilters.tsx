// The history page's filter form: it shows the URL's filters and, applied, asks for new ones.

import { useId, useState, type FormEvent } from "react";
import { statusLabel } from "../../format";
import {
  CALL_DIRECTIONS,
  CALL_STATUSES,
  MAX_SEARCH,
  directionLabel,
  extensionLabel,
  filtersFromForm,
  formFromFilters,
  queryFromFilters,
  type FilterForm,
} from "../../history";
import type { CallFilters, ExtensionStatus } from "../../types";

interface Props {
  /** The filters in the URL. */
  filters: CallFilters;
  extensions: readonly ExtensionStatus[];
  onApply(filters: CallFilters): void;
}

export function HistoryFilters({ filters, extensions, onApply }: Props) {
  const id = useId();
  const shown = queryFromFilters({ ...filters, page: undefined });
  const [form, setForm] = useState<FilterForm>(() => formFromFilters(filters));
  const [formFor, setFormFor] = useState(shown);
  const [problem, setProblem] = useState<string | null>(null);
  // The URL changed under the form (Back, a link, Clear): show its filters instead.
  if (formFor !== shown) {
    setFormFor(shown);
    setForm(formFromFilters(filters));
    setProblem(null);
  }

  const set = (name: keyof FilterForm) => (event: { target: { value: string } }) => {
    const value = event.target.value;
    setForm((previous) => ({ ...previous, [name]: value }));
  };

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const outcome = filtersFromForm(form, filters);
    setProblem(outcome.problem);
    if (outcome.filters) onApply(outcome.filters);
  }

  function clear() {
    setProblem(null);
    setForm(formFromFilters({}));
    onApply(filters.per_page !== undefined ? { per_page: filters.per_page } : {});
  }

  const extensionId = form.extension_id;
  const unknownExtension = extensionId !== "" && !extensions.some((extension) => String(extension.id) === extensionId);

  return (
    <form className="card panel history-filters" aria-label="Filters" data-testid="history-filters" onSubmit={submit}>
      <div className="form-fields">
        <label className="field" htmlFor={`${id}-status`}>
          <span className="field-label">Status</span>
          <select id={`${id}-status`} name="status" value={form.status} onChange={set("status")}>
            <option value="">Any status</option>
            {CALL_STATUSES.map((status) => (
              <option key={status} value={status}>
                {statusLabel(status)}
              </option>
            ))}
          </select>
        </label>
        <label className="field" htmlFor={`${id}-direction`}>
          <span className="field-label">Direction</span>
          <select id={`${id}-direction`} name="direction" value={form.direction} onChange={set("direction")}>
            <option value="">Both directions</option>
            {CALL_DIRECTIONS.map((direction) => (
              <option key={direction} value={direction}>
                {directionLabel(direction)}
              </option>
            ))}
          </select>
        </label>
        <label className="field" htmlFor={`${id}-from`}>
          <span className="field-label">From (UTC day)</span>
          <input id={`${id}-from`} name="from" type="date" value={form.from} max={form.to || undefined} onChange={set("from")} />
        </label>
        <label className="field" htmlFor={`${id}-to`}>
          <span className="field-label">To (UTC day)</span>
          <input id={`${id}-to`} name="to" type="date" value={form.to} min={form.from || undefined} onChange={set("to")} />
        </label>
        <label className="field" htmlFor={`${id}-search`}>
          <span className="field-label">Number</span>
          <input
            id={`${id}-search`}
            name="search"
            type="search"
            inputMode="tel"
            autoComplete="off"
            placeholder="Part of a number"
            maxLength={MAX_SEARCH}
            value={form.search}
            onChange={set("search")}
          />
        </label>
        <label className="field" htmlFor={`${id}-extension`}>
          <span className="field-label">Extension</span>
          <select id={`${id}-extension`} name="extension_id" value={form.extension_id} onChange={set("extension_id")}>
            <option value="">Any extension</option>
            {unknownExtension && <option value={extensionId}>Extension #{extensionId}</option>}
            {extensions.map((extension) => (
              <option key={extension.id} value={String(extension.id)}>
                {extensionLabel(extension)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="history-filter-actions">
        <button type="submit" className="primary" data-testid="history-apply">
          Search
        </button>
        <button type="button" className="ghost" data-testid="history-clear" onClick={clear}>
          Clear
        </button>
        {problem && (
          <p className="error history-form-error" role="alert">
            {problem}
          </p>
        )}
      </div>
    </form>
  );
}
