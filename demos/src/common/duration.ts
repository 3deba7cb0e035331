// Durations on the demo command lines (--idle-timeout, --stats-interval).
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/**
 * Milliseconds from "5000" (a bare number is milliseconds, the package's unit
 * everywhere), "500ms", "30s", "2m" or "1.5s"; rounded up. null if malformed.
 */
export function parseDurationMs(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text);
  return m ? Math.ceil(Number(m[1]) * UNIT_MS[m[2] ?? 'ms']) : null;
}
