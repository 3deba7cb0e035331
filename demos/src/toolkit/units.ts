// The units every demo flag shares. Durations: a bare number is milliseconds
// (the package's unit everywhere); or 500ms, 5s, 1.5s, 2m, 1h. Sizes: a bare
// number is bytes; or 1k / 1KiB (1024), 2M / 2MiB, 1G / 1GiB (binary, as the
// kernel's buffers are). Both are rounded up to whole units; null if malformed.
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_BYTES: Record<string, number> = {
  b: 1, k: 1024, kib: 1024, kb: 1024, m: 1024 ** 2, mib: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3, gb: 1024 ** 3,
};

export function parseDurationMs(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) return null;
  const v = Math.ceil(Number(m[1]) * DURATION_MS[m[2] ?? 'ms']);
  return Number.isSafeInteger(v) ? v : null;
}

export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)?\s*$/.exec(text);
  if (!m) return null;
  const unit = SIZE_BYTES[(m[2] ?? 'b').toLowerCase()];
  if (unit === undefined) return null;
  const v = Math.ceil(Number(m[1]) * unit);
  return Number.isSafeInteger(v) ? v : null;
}
