/** Text the templates show: times, ages, labels, links and the commands an operator copies. */
import type { CoverageState } from "@qcs/shared";

export function age(time: Date | undefined, now: number): string {
  if (time === undefined) return "never";
  const minutes = Math.max(0, Math.round((now - time.getTime()) / 60_000));
  if (minutes < 1) return "just now";
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} d ago`;
}

/** `2026-12-02 08:52 UTC`. */
export function clock(time: Date | undefined): string {
  return time === undefined ? "never" : `${time.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export const STATE_LABELS: Readonly<Record<CoverageState, string>> = {
  current: "current",
  stale: "stale",
  failing: "failing",
  neverScanned: "never scanned",
};

/** The status page's own path of an image (references keep their slashes, as in the API). */
export function imagePath(ref: string): string {
  return `/images/${encodeURI(ref)}`;
}

/** A path with a query, leaving out empty values. */
export function withQuery(path: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value) params.set(name, value);
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Canonical references hold no shell metacharacters; anything else is quoted for a POSIX shell. */
export function shellWord(text: string): string {
  return /^[\w.:/@+-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

export const rescanCommand = (ref: string) => `scanctl rescan --force ${shellWord(ref)}`;

export function resubmitCommand(reason: string, registry?: string): string {
  const base = `scanctl dlq resubmit --reason ${shellWord(reason)}`;
  return registry === undefined ? base : `${base} --registry ${shellWord(registry)}`;
}
