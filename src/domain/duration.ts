/**
 * Durations as people type them: `30m`, `2h`, `1h30m`, `1d`, `45s`, `90` (minutes).
 * Parsed to whole seconds. Pure, so the command grammar, config and templates share one rule.
 */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const DURATION_RE = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

export class DurationSyntaxError extends Error {
  constructor(readonly input: string) {
    super(`"${input}" is not a duration; use forms like 30m, 2h, 1h30m or 1d`);
    this.name = 'DurationSyntaxError';
  }
}

/** Parses a duration; throws DurationSyntaxError on anything else. A bare number means minutes. */
export function parseDuration(input: string): number {
  const text = input.trim().toLowerCase();
  if (/^\d+$/.test(text)) {
    const minutes = Number(text);
    if (minutes <= 0) throw new DurationSyntaxError(input);
    return minutes * 60;
  }
  const match = DURATION_RE.exec(text);
  if (!text || !match || match.slice(1).every((part) => part === undefined)) {
    throw new DurationSyntaxError(input);
  }
  const [, w, d, h, m, s] = match;
  const seconds =
    Number(w ?? 0) * UNIT_SECONDS.w! +
    Number(d ?? 0) * UNIT_SECONDS.d! +
    Number(h ?? 0) * UNIT_SECONDS.h! +
    Number(m ?? 0) * UNIT_SECONDS.m! +
    Number(s ?? 0);
  if (seconds <= 0) throw new DurationSyntaxError(input);
  return seconds;
}

/** Like parseDuration but returns undefined instead of throwing. */
export function tryParseDuration(input: string): number | undefined {
  try {
    return parseDuration(input);
  } catch {
    return undefined;
  }
}

/** Formats seconds the way people read them: `1h30m`, `2d`, `45s`. */
export function formatDuration(totalSeconds: number): string {
  let rest = Math.max(0, Math.round(totalSeconds));
  if (rest === 0) return '0s';
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
