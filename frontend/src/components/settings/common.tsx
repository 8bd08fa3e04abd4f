// Pieces every Settings section uses: refusals shown inline, a confirm step, a copyable field.

import { useCallback, useRef, useState, type ReactNode } from "react";
import { isUnauthorized } from "../../api";
import { browserCopy, type CopyOutcome } from "../../clipboard";
import { refusalMessage } from "../../directory";

/** Where a refusal shows: next to the form that was sent, or above the table whose row was changed. */
export type RefusalPlace = "form" | "table";

export interface Refusal {
  place: RefusalPlace;
  message: string;
}

export interface SectionAction {
  /** The key of the change in flight (one at a time per section), or null. */
  busy: string | null;
  refusal: Refusal | null;
  notice: string | null;
  refuse(place: RefusalPlace, message: string): void;
  announce(message: string | null): void;
  /** Run `change`; true when it went through. A refusal is shown at `place`; 401 signs out. */
  run(place: RefusalPlace, key: string, change: () => Promise<void>): Promise<boolean>;
}

export function useSectionAction(onUnauthorized: () => void): SectionAction {
  const [busy, setBusy] = useState<string | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const inFlight = useRef(false);

  const run = useCallback(
    async (place: RefusalPlace, key: string, change: () => Promise<void>) => {
      if (inFlight.current) return false;
      inFlight.current = true;
      setBusy(key);
      setRefusal(null);
      setNotice(null);
      try {
        await change();
        return true;
      } catch (error) {
        if (isUnauthorized(error)) onUnauthorized();
        else setRefusal({ place, message: refusalMessage(error) });
        return false;
      } finally {
        inFlight.current = false;
        setBusy(null);
      }
    },
    [onUnauthorized],
  );

  const refuse = useCallback((place: RefusalPlace, message: string) => {
    setNotice(null);
    setRefusal({ place, message });
  }, []);

  return { busy, refusal, notice, refuse, announce: setNotice, run };
}

/** The section's refusal, if it belongs at `place`. */
export function SectionError({ action, place }: { action: SectionAction; place: RefusalPlace }) {
  if (!action.refusal || action.refusal.place !== place) return null;
  return (
    <p className="error settings-error" role="alert" data-testid="settings-error" data-place={place}>
      {action.refusal.message}
    </p>
  );
}

export function SectionNotice({ action }: { action: SectionAction }) {
  if (!action.notice) return null;
  return (
    <p className="success" role="status" data-testid="settings-notice">
      {action.notice}
    </p>
  );
}

interface FieldProps {
  label: string;
  hint?: string | null;
  /** Shown muted while there is no `hint`. */
  help?: string;
  className?: string;
  children: ReactNode;
}

export function Field({ label, hint, help, className, children }: FieldProps) {
  return (
    <label className={className ? `field ${className}` : "field"}>
      <span className="field-label">{label}</span>
      {children}
      {hint ? (
        <span className="field-hint warn">{hint}</span>
      ) : help ? (
        <span className="field-hint">{help}</span>
      ) : null}
    </label>
  );
}

interface ConfirmButtonProps {
  testId: string;
  label: string;
  /** What is about to happen, e.g. "Delete extension 101?" */
  question: string;
  confirmLabel?: string;
  disabled?: boolean;
  onConfirm(): void;
}

/** A destructive button with a second step: the question, then Confirm or Cancel. */
export function ConfirmButton(props: ConfirmButtonProps) {
  const { testId, label, question, confirmLabel = label, disabled, onConfirm } = props;
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button
        type="button"
        className="ghost danger small"
        data-testid={testId}
        disabled={disabled}
        onClick={() => setAsking(true)}
      >
        {label}
      </button>
    );
  }
  return (
    <span className="confirm-inline">
      <span className="confirm-question">{question}</span>
      <button
        type="button"
        className="danger small"
        data-testid={`${testId}-confirm`}
        disabled={disabled}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </button>
      <button
        type="button"
        className="ghost small"
        data-testid={`${testId}-cancel`}
        autoFocus
        onClick={() => setAsking(false)}
      >
        Cancel
      </button>
    </span>
  );
}

interface CopyFieldProps {
  value: string;
  label: string;
  testId: string;
  copyTestId: string;
  kind?: string;
}

/** A read-only field and its Copy button (clipboard, or the text selected for Ctrl+C). */
export function CopyField({ value, label, testId, copyTestId, kind }: CopyFieldProps) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<{ value: string; outcome: CopyOutcome } | null>(null);
  const outcome = copied && copied.value === value ? copied.outcome : null;

  async function copy() {
    const result = await browserCopy(value, input.current);
    setCopied({ value, outcome: result });
  }

  return (
    <div className="copy-field">
      <input
        ref={input}
        type="text"
        readOnly
        value={value}
        aria-label={label}
        className="mono"
        data-testid={testId}
        data-kind={kind}
        onFocus={(event) => event.currentTarget.select()}
      />
      <button
        type="button"
        className="ghost small"
        data-testid={copyTestId}
        data-kind={kind}
        onClick={() => void copy()}
      >
        {outcome === "copied" ? "Copied" : "Copy"}
      </button>
      {outcome === "selected" && (
        <span className="field-hint" data-testid="copy-selected">
          Selected: press Ctrl+C (⌘C) to copy.
        </span>
      )}
    </div>
  );
}
