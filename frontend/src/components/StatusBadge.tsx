import { statusLabel } from "../format";

/** A call state as a coloured badge: `<span class="badge status-…">Label</span>`. */
export function StatusBadge({ status, testId }: { status: string; testId?: string }) {
  return (
    <span data-testid={testId} className={`badge status-${status}`}>
      {statusLabel(status)}
    </span>
  );
}
