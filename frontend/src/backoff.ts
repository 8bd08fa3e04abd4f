// Reconnection backoff: exponential with full jitter, no maximum number of attempts.
//   delay(attempt) = random(0, min(cap, base * 2^attempt))

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 30_000;

/** Upper bound of the delay before attempt number `attempt` (0-based). */
export function backoffCeilingMs(
  attempt: number,
  baseMs: number = BACKOFF_BASE_MS,
  capMs: number = BACKOFF_CAP_MS,
): number {
  const n = Math.max(0, Math.floor(Number.isFinite(attempt) ? attempt : 0));
  // 2^n overflows to Infinity for large n; min() keeps the cap.
  return Math.min(capMs, baseMs * Math.pow(2, n));
}

/** Full-jitter delay in ms; `random` returns a number in [0, 1). */
export function backoffDelayMs(
  attempt: number,
  random: () => number = Math.random,
  baseMs: number = BACKOFF_BASE_MS,
  capMs: number = BACKOFF_CAP_MS,
): number {
  const ceiling = backoffCeilingMs(attempt, baseMs, capMs);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceiling);
}

/** Whole seconds left until `deadline` (ms), rounded up, never negative. */
export function secondsUntil(deadline: number, now: number): number {
  return Math.max(0, Math.ceil((deadline - now) / 1000));
}
