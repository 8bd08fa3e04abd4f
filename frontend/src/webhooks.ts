// The Cloudonix webhook URLs of an organization (pure).

import type { WebhookKind } from "./types";

export const WEBHOOK_KINDS: readonly WebhookKind[] = ["call-initiated", "call-status", "cdr"];

export const WEBHOOK_LABELS: Record<WebhookKind, string> = {
  "call-initiated": "Call initiated",
  "call-status": "Call status",
  cdr: "CDR (call detail record)",
};

export interface WebhookUrl {
  kind: string;
  label: string;
  url: string;
}

/** `origin + path` without a doubled or missing slash. */
export function joinUrl(origin: string, path: string): string {
  const base = origin.replace(/\/+$/, "");
  return path.startsWith("/") ? `${base}${path}` : `${base}/${path}`;
}

/** The known kinds first in their usual order, then any others the API adds (sorted). */
export function webhookUrls(origin: string, paths: Record<string, string>): WebhookUrl[] {
  const known = WEBHOOK_KINDS.filter((kind) => typeof paths[kind] === "string");
  const others = Object.keys(paths)
    .filter((kind) => !(WEBHOOK_KINDS as readonly string[]).includes(kind))
    .sort();
  return [...known, ...others].map((kind) => ({
    kind,
    label: WEBHOOK_LABELS[kind as WebhookKind] ?? kind,
    url: joinUrl(origin, paths[kind] ?? ""),
  }));
}
