/**
 * Plain aligned columns for terminals (the kubectl look: upper-case headers, two spaces between
 * columns, no borders), so output stays readable when piped into `less` or `grep`.
 */
import { redactSecrets } from "@qcs/shared";

export interface Column {
  header: string;
  /** Numbers read better right-aligned. Default: left. */
  align?: "left" | "right";
  /** Longer cells are cut and end in `…`. Default: no limit. */
  maxWidth?: number;
}

export function renderTable(columns: readonly Column[], rows: ReadonlyArray<readonly string[]>): string {
  const cells = rows.map((row) =>
    // Redacted before `fit` cuts it: a secret cut at the edge would no longer be recognised.
    columns.map((column, index) => fit(oneLine(redactSecrets(row[index] ?? "")), column.maxWidth)),
  );
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...cells.map((row) => (row[index] as string).length)),
  );
  const line = (values: readonly string[]) =>
    values
      .map((value, index) => {
        const width = widths[index] as number;
        const last = index === values.length - 1;
        if (columns[index]?.align === "right") return value.padStart(width);
        return last ? value : value.padEnd(width);
      })
      .join("  ");
  return [line(columns.map((column) => column.header.toUpperCase())), ...cells.map(line)].join("\n");
}

/** `2026-11-26T10:00:00Z`: seconds are precise enough on a terminal. */
export function formatTime(date: Date | undefined): string {
  return date === undefined ? "-" : `${date.toISOString().slice(0, 19)}Z`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function fit(text: string, maxWidth: number | undefined): string {
  if (maxWidth === undefined || text.length <= maxWidth) return text;
  return `${text.slice(0, Math.max(0, maxWidth - 1))}…`;
}
