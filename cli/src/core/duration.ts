/**
 * Durations on the command line (`--older-than 7d`): one or more `<number><unit>` parts, units
 * `s`, `m`, `h`, `d`, `w` (`90m`, `1h30m`, `2.5d`). A bare number is refused: minutes or
 * milliseconds would both be a plausible reading.
 */
import { usageError } from "./cliError.ts";

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const WHOLE = /^(?:\d+(?:\.\d+)?[smhdw])+$/;
const PART = /(\d+(?:\.\d+)?)([smhdw])/g;

/** Milliseconds in `text`; throws a usage error naming `flag` when it does not parse or is zero. */
export function parseDuration(text: string, flag = "duration"): number {
  const compact = text.trim().toLowerCase();
  if (!WHOLE.test(compact)) {
    throw usageError(`${flag}: expected a duration such as 30m, 12h, 7d or 1h30m, got "${text}"`);
  }
  let total = 0;
  for (const [, amount, unit] of compact.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  if (total <= 0) throw usageError(`${flag}: must be longer than zero`);
  return Math.round(total);
}

/** A short human form of an age: `45s`, `12m`, `5h`, `3d`. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
