/**
 * ISO-8601 durations as Service Bus writes them (`PT1M`, `P14D`, `PT0.5S`, .NET's TimeSpan.MaxValue
 * `P10675199DT2H48M5.4775807S`). Years and months have no fixed length and are refused.
 */
const DURATION =
  /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

const UNIT_MS = [7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000] as const;

/** Milliseconds, or undefined when `text` is not a duration of weeks/days/hours/minutes/seconds. */
export function parseDuration(text: string): number | undefined {
  const normalised = text.trim().toUpperCase();
  const match = DURATION.exec(normalised);
  if (!match || normalised === "P" || normalised.endsWith("T")) return undefined;
  let total = 0;
  UNIT_MS.forEach((unit, index) => {
    const value = match[index + 1];
    if (value !== undefined) total += Number(value) * unit;
  });
  return Math.round(total);
}
