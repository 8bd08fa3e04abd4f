// STUB (contract only): replaced by the history page.
import type { LiveApi } from "../../api";
import type { ExtensionStatus } from "../../types";

export interface HistoryPageProps {
  api: LiveApi;
  /** The organization's extensions, for the extension filter. */
  extensions: readonly ExtensionStatus[];
  /** Bumps whenever the page applies a call event or snapshot: new calls may match the filters. */
  changes: number;
  /** An API call answered 401. */
  onUnauthorized(): void;
}

export function HistoryPage(_props: HistoryPageProps) {
  return <section data-testid="history" />;
}
