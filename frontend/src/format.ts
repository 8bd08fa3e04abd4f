// Display helpers.

/** 5 -> "0:05", 754 -> "12:34", 3723 -> "1:02:03". */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(Number.isFinite(totalSeconds) ? totalSeconds : 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** formatDuration(seconds), or `empty` when there is no duration (null). */
export function formatOptionalDuration(seconds: number | null, empty = "—"): string {
  return seconds !== null ? formatDuration(seconds) : empty;
}

const STATUS_LABELS: Record<string, string> = {
  initiated: "Incoming",
  ringing: "Ringing",
  answered: "Answered",
  completed: "Completed",
  no_answer: "No answer",
  busy: "Busy",
  failed: "Failed",
  canceled: "Canceled",
  cancelled: "Canceled",
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

/** "Ada (ext 101)", "Ada", "ext 101" or "—". */
export function answeredByLabel(
  answeredBy: { name: string; extension_number: string | null } | null,
  extensionNumber: string | null = null,
): string {
  const ext = answeredBy?.extension_number ?? extensionNumber;
  if (answeredBy?.name) return ext ? `${answeredBy.name} (ext ${ext})` : answeredBy.name;
  return ext ? `ext ${ext}` : "—";
}

/** Local HH:MM:SS of an ISO timestamp ("" when missing/invalid). */
export function formatClock(iso: string | null, locale?: string): string {
  if (!iso) return "";
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return "";
  return t.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** Server clock offset: server_time - local time, in ms (0 when unparsable). */
export function clockOffsetMs(serverTime: string | null | undefined, localNow: number): number {
  if (!serverTime) return 0;
  const t = Date.parse(serverTime);
  return Number.isNaN(t) ? 0 : t - localNow;
}
